// In a long form, Enter in a field moves to the next field instead of
// saving the whole form half-filled (a habit from the old software, and a
// scanner's Enter); Ctrl+Enter or the save button saves. Forms opt in with
// `data-enter-next`; short one-line forms (search, a single scan) keep Enter.

const FIELDS = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";

/** The field after `el` in its form, or null at the last one. */
function nextField(form: HTMLFormElement, el: Element): HTMLElement | null {
  const all = Array.from(form.querySelectorAll<HTMLElement>(FIELDS));
  return all[all.indexOf(el as HTMLElement) + 1] ?? null;
}

export function installFormKeys(root: Document = document): void {
  root.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.defaultPrevented) return;
    const el = e.target;
    if (!(el instanceof HTMLInputElement) || ["checkbox", "radio", "file", "submit", "button"].includes(el.type)) return;
    const form = el.closest("form");
    if (!form || !form.hasAttribute("data-enter-next")) return;
    e.preventDefault();
    if (e.ctrlKey) {
      form.requestSubmit();
      return;
    }
    nextField(form, el)?.focus();
  });
}
