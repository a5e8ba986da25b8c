// Barcode scanners type the code and press Enter. Some send it twice (a
// double trigger); the second identical scan within the window is dropped.
import { normalizeCode } from "./digits";

export const DUPLICATE_SCAN_MS = 500;

export class ScanGuard {
  private last = "";
  private at = -Infinity;

  constructor(private readonly windowMs = DUPLICATE_SCAN_MS) {}

  /** True if this scan should be handled; false for an echo of the last one. */
  accept(code: string, now: number = performance.now()): boolean {
    const repeat = code === this.last && now - this.at < this.windowMs;
    this.last = code;
    this.at = now;
    return !repeat;
  }

  /**
   * The scan an Enter in a scan field completes: the field's text as a code
   * and when it was read; null for another key, an empty field or an echo.
   * An Enter is kept from the form.
   */
  enter(e: KeyboardEvent, text: string): { code: string; started: number } | null {
    if (e.key !== "Enter") return null;
    e.preventDefault();
    const started = performance.now();
    const code = normalizeCode(text);
    return code === "" || !this.accept(code, started) ? null : { code, started };
  }

  reset(): void {
    this.last = "";
    this.at = -Infinity;
  }
}
