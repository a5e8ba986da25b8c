import { describe, expect, it } from "vitest";
import { DUPLICATE_SCAN_MS, ScanGuard } from "./scan";

describe("ScanGuard", () => {
  it("drops an identical scan inside the window only", () => {
    const g = new ScanGuard();
    expect(g.accept("10023", 1000)).toBe(true);
    expect(g.accept("10023", 1000 + DUPLICATE_SCAN_MS - 1)).toBe(false);
    expect(g.accept("10023", 1000 + 2 * DUPLICATE_SCAN_MS + 10)).toBe(true);
  });
  it("never drops a different code, however fast", () => {
    const g = new ScanGuard();
    expect(g.accept("1", 0)).toBe(true);
    expect(g.accept("2", 1)).toBe(true);
    expect(g.accept("1", 2)).toBe(true);
  });
  it("a repeat of a dropped echo inside the window is still an echo", () => {
    const g = new ScanGuard();
    g.accept("7", 0);
    expect(g.accept("7", 300)).toBe(false);
    expect(g.accept("7", 600)).toBe(false);
    expect(g.accept("7", 1200)).toBe(true);
  });
  it("reset forgets the last scan", () => {
    const g = new ScanGuard();
    g.accept("7", 0);
    g.reset();
    expect(g.accept("7", 10)).toBe(true);
  });
});
