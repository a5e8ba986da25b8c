import { describe, expect, it } from "vitest";
import { addDays, parseClock, weekStart, weekdayIndex } from "./week";

describe("weeks", () => {
  it("start on Saturday", () => {
    // 2026-12-05 is a Saturday.
    expect(weekdayIndex("2026-12-05")).toBe(0);
    expect(weekdayIndex("2026-12-11")).toBe(6);
    for (let i = 0; i < 7; i++) expect(weekStart(addDays("2026-12-05", i))).toBe("2026-12-05");
    expect(weekStart("2026-12-04")).toBe("2026-11-28");
  });

  it("cross months and years", () => {
    expect(addDays("2026-12-30", 7)).toBe("2027-01-06");
    expect(addDays("2027-01-06", -7)).toBe("2026-12-30");
  });

  it("read a clock in either script", () => {
    expect(parseClock("۱۶:۳۰")).toBe("16:30");
    expect(parseClock(" 9:5 ")).toBe("09:05");
    expect(parseClock("24:00")).toBeNull();
    expect(parseClock("ده")).toBeNull();
  });
});
