import { describe, expect, it } from "vitest";
import { formatNumber, formatRials, normalizeCode, parseInteger, toAsciiDigits, toPersianDigits } from "./digits";

describe("digits", () => {
  it("reads Persian, Arabic and Latin digits alike", () => {
    expect(toAsciiDigits("۱۲۳٤٥٦789")).toBe("123456789");
    expect(toAsciiDigits("کتاب ۱۲")).toBe("کتاب 12");
  });
  it("shows Persian digits", () => {
    expect(toPersianDigits("1405/09/04")).toBe("۱۴۰۵/۰۹/۰۴");
    expect(toPersianDigits("٤٥")).toBe("۴۵");
    expect(toPersianDigits(0)).toBe("۰");
  });
  it("normalizes a scanned or typed code: digits ASCII, no invisible marks", () => {
    expect(normalizeCode(" ۰۰۱۲۳\u200c\u200f ")).toBe("00123");
  });
  it("parses whole numbers with separators, refuses the rest", () => {
    expect(parseInteger("۳۵۰٬۰۰۰")).toBe(350000);
    expect(parseInteger("350,000")).toBe(350000);
    expect(parseInteger("۱۲الف")).toBeNull();
    expect(parseInteger("")).toBeNull();
    expect(parseInteger("99999999999999999999")).toBeNull();
  });
  it("formats rials with Persian separators", () => {
    expect(formatNumber(1234567)).toBe("۱٬۲۳۴٬۵۶۷");
    expect(formatRials(350000)).toBe("۳۵۰٬۰۰۰ ریال");
    expect(formatNumber(-5)).toBe("−۵");
  });
});
