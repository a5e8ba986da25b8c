// Every number staff type is shown in Persian digits, whatever the keyboard
// layout or the scanner sends: one listener for every field of the window,
// present and future. A field that holds Latin text by nature (a password,
// a username, a server address) opts out with `data-latin` on itself or a
// parent. The stored value is the same: every parser reads any digit script.
import { toPersianDigits } from "./digits";

const SKIPPED_TYPES = new Set(["password", "url", "email", "file", "checkbox", "radio", "date", "number", "hidden"]);

/** Whether typed digits in this element are shown as Persian digits. */
export function takesPersianDigits(el: EventTarget | null): el is HTMLInputElement | HTMLTextAreaElement {
  if (el instanceof HTMLTextAreaElement) return el.closest("[data-latin]") === null;
  if (!(el instanceof HTMLInputElement)) return false;
  return !SKIPPED_TYPES.has(el.type) && el.closest("[data-latin]") === null;
}

/** Rewrites the field's digits in place, keeping the caret where it was
 * (the conversion keeps the length, one character for one). */
export function persianizeField(el: HTMLInputElement | HTMLTextAreaElement): void {
  const shown = toPersianDigits(el.value);
  if (shown === el.value) return;
  const { selectionStart, selectionEnd } = el;
  el.value = shown;
  if (selectionStart !== null && selectionEnd !== null) el.setSelectionRange(selectionStart, selectionEnd);
}

/** Installs the listener (capture phase: before the fields' own handlers,
 * so bound values already hold Persian digits). */
export function installPersianDigits(root: Document = document): void {
  root.addEventListener(
    "input",
    (e) => {
      if (takesPersianDigits(e.target)) persianizeField(e.target);
    },
    { capture: true },
  );
}
