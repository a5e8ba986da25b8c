import { describe, expect, it } from "vitest";
import {
  ageOn,
  formatJalali,
  formatJalaliLong,
  formatTehranDateTime,
  isoToJalali,
  jalaliToIso,
  monthLength,
  parseJalali,
} from "./jalali";

describe("jalali", () => {
  it("parses every digit script and separator", () => {
    for (const s of ["۱۴۰۵/۰۹/۰۴", "1405-9-4", "١٤٠٥.٠٩.٠٤", "۱۴۰۵ ۹ ۴", "4/9/1405", "۴ آذر ۱۴۰۵", "05/09/04"]) {
      const r = parseJalali(s);
      expect(r, s).toEqual({ ok: true, date: { year: 1405, month: 9, day: 4 } });
    }
  });
  it("refuses dates that do not exist, in Persian", () => {
    const r = parseJalali("۱۴۰۵/۱۲/۳۰"); // 1405 is not a leap year
    expect(r.ok).toBe(false);
    expect(parseJalali("۱۴۰۳/۱۲/۳۰").ok).toBe(true); // 1403 is
    const bad = parseJalali("فردا");
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toContain("فردا");
    expect(parseJalali("").ok).toBe(false);
    expect(parseJalali("۱۴۰۵/۱۳/۰۱").ok).toBe(false);
  });
  it("formats with Persian digits and month names", () => {
    expect(formatJalali({ year: 1405, month: 9, day: 4 })).toBe("۱۴۰۵/۰۹/۰۴");
    expect(formatJalaliLong({ year: 1405, month: 9, day: 4 })).toBe("۴ آذر ۱۴۰۵");
  });
  it("converts to and from the Gregorian dates the Rust side sends", () => {
    expect(isoToJalali("2026-11-25")).toEqual({ year: 1405, month: 9, day: 4 });
    expect(jalaliToIso({ year: 1405, month: 1, day: 1 })).toBe("2026-03-21");
    expect(isoToJalali("25/11/2026")).toBeNull();
    // Round trip over a span of days.
    const start = Date.UTC(2024, 0, 1);
    for (let i = 0; i < 800; i += 7) {
      const iso = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
      const j = isoToJalali(iso);
      expect(j && jalaliToIso(j)).toBe(iso);
    }
  });
  it("knows month lengths and ages", () => {
    expect(monthLength(1405, 1)).toBe(31);
    expect(monthLength(1405, 7)).toBe(30);
    expect(monthLength(1405, 12)).toBe(29);
    expect(monthLength(1403, 12)).toBe(30);
    expect(ageOn({ year: 1395, month: 9, day: 5 }, { year: 1405, month: 9, day: 4 })).toBe(9);
    expect(ageOn({ year: 1395, month: 9, day: 4 }, { year: 1405, month: 9, day: 4 })).toBe(10);
  });
  it("shows a UTC timestamp as a Jalali date and time in Tehran", () => {
    // 2025-04-05 06:30 UTC = 10:00 Tehran, 1404/01/16.
    expect(formatTehranDateTime("2025-04-05T06:30:00.000Z")).toBe("۱۴۰۴/۰۱/۱۶ ساعت ۱۰:۰۰");
    // Late evening UTC is already the next day in Tehran.
    expect(formatTehranDateTime("2026-11-24T21:00:00Z")).toBe("۱۴۰۵/۰۹/۰۴ ساعت ۰۰:۳۰");
    expect(formatTehranDateTime("دیروز")).toBeNull();
  });
});
