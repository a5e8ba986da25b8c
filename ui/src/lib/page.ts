// A print screen's paper: its `@page` rule, in the document only while the
// screen is shown. Use as `$effect(() => pageStyle("print-x", "@page {…}"))`.
export function pageStyle(screen: string, rule: string): () => void {
  const style = document.createElement("style");
  style.dataset.screen = screen;
  style.textContent = rule;
  document.head.append(style);
  return () => style.remove();
}
