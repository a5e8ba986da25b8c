import { describe, expect, it } from "vitest";
import { DUPLICATE_SCAN_MS, ScanGuard } from "./scan";

/** A scan: the code read, when (ms), and whether the guard lets it through. */
type Scan = [code: string, at: number, accepted: boolean];

describe("ScanGuard", () => {
  it.each<[string, Scan[]]>([
    [
      "drops an identical scan inside the window only",
      [
        ["10023", 1000, true],
        ["10023", 1000 + DUPLICATE_SCAN_MS - 1, false],
        ["10023", 1000 + 2 * DUPLICATE_SCAN_MS + 10, true],
      ],
    ],
    ["never drops a different code, however fast", [["1", 0, true], ["2", 1, true], ["1", 2, true]]],
    ["a repeat of a dropped echo inside the window is still an echo", [["7", 0, true], ["7", 300, false], ["7", 600, false], ["7", 1200, true]]],
  ])("%s", (_, scans) => {
    const g = new ScanGuard();
    for (const [code, at, accepted] of scans) expect(g.accept(code, at)).toBe(accepted);
  });
  it("enter reads a scan field's code on Enter only, and drops empty codes and echoes", () => {
    const g = new ScanGuard();
    let prevented = 0;
    const key = (k: string) => ({ key: k, preventDefault: () => (prevented += 1) }) as unknown as KeyboardEvent;
    expect(g.enter(key("a"), "123")).toBeNull();
    expect(prevented).toBe(0);
    expect(g.enter(key("Enter"), "  ")).toBeNull();
    expect(g.enter(key("Enter"), "۱۲۳")?.code).toBe("123");
    expect(g.enter(key("Enter"), "123")).toBeNull();
    expect(prevented).toBe(3);
  });
  it("reset forgets the last scan", () => {
    const g = new ScanGuard();
    g.accept("7", 0);
    g.reset();
    expect(g.accept("7", 10)).toBe(true);
  });
});
