// Barcode scanners type the code and press Enter. Some send it twice (a
// double trigger); the second identical scan within the window is dropped.

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

  reset(): void {
    this.last = "";
    this.at = -Infinity;
  }
}
