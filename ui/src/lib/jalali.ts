// Jalali (Solar Hijri) dates for display and input. The store does its own
// conversions (ICU4X); the window needs them for the date inputs.
import { isValidJalaaliDate, jalaaliMonthLength, toGregorian, toJalaali } from "jalaali-js";
import { toAsciiDigits, toPersianDigits } from "./digits";
import type { JalaliDate } from "./bindings";

export const MONTHS = [
  "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
  "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
] as const;

export type ParsedJalali = { ok: true; date: JalaliDate } | { ok: false; error: string };

/**
 * Parses what staff type: year/month/day with `/`, `-`, `.` or spaces, in any
 * digit script, two-digit years read as 13xx/14xx, or a month name.
 */
export function parseJalali(input: string): ParsedJalali {
  const raw = toAsciiDigits(input).trim();
  if (raw === "") return { ok: false, error: "تاریخ را وارد کنید (مثل ۱۴۰۵/۰۹/۰۴)." };
  let text = raw;
  MONTHS.forEach((name, i) => {
    text = text.replace(name, ` ${i + 1} `);
  });
  const parts = text.split(/[\s/\-.]+/).filter((p) => p !== "");
  if (parts.length !== 3 || parts.some((p) => !/^\d+$/.test(p))) {
    return { ok: false, error: `«${input}» تاریخ نیست؛ به شکل سال/ماه/روز بنویسید (مثل ۱۴۰۵/۰۹/۰۴).` };
  }
  let [y, m, d] = parts.map(Number) as [number, number, number];
  // Day first (۴/۹/۱۴۰۵) is common too.
  if (d > 31 && y <= 31) [y, d] = [d, y];
  if (y < 100) y += y >= 50 ? 1300 : 1400;
  if (!isValidJalaaliDate(y, m, d)) {
    return { ok: false, error: `تاریخ ${toPersianDigits(`${y}/${m}/${d}`)} در تقویم وجود ندارد؛ روز و ماه را بررسی کنید.` };
  }
  return { ok: true, date: { year: y, month: m, day: d } };
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** ۱۴۰۵/۰۹/۰۴ */
export function formatJalali(d: JalaliDate): string {
  return toPersianDigits(`${d.year}/${pad2(d.month)}/${pad2(d.day)}`);
}

/** ۴ آذر ۱۴۰۵ */
export function formatJalaliLong(d: JalaliDate): string {
  return `${toPersianDigits(d.day)} ${MONTHS[d.month - 1] ?? ""} ${toPersianDigits(d.year)}`;
}

/** «۴ آذر ۱۴۰۵» for an ISO date the Rust side sends (as sent when it is not one). */
export function isoToJalaliLong(iso: string): string {
  const d = isoToJalali(iso);
  return d ? formatJalaliLong(d) : iso;
}

/** A Gregorian ISO date (yyyy-mm-dd, as the Rust side sends NaiveDate) in Jalali. */
export function isoToJalali(iso: string): JalaliDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return null;
  const j = toJalaali(Number(m[1]), Number(m[2]), Number(m[3]));
  return { year: j.jy, month: j.jm, day: j.jd };
}

export function jalaliToIso(d: JalaliDate): string {
  const g = toGregorian(d.year, d.month, d.day);
  return `${g.gy}-${pad2(g.gm)}-${pad2(g.gd)}`;
}

export function monthLength(year: number, month: number): number {
  return jalaaliMonthLength(year, month);
}

/** Whole years between a birth date and a day (both Jalali). */
export function ageOn(birth: JalaliDate, on: JalaliDate): number {
  let age = on.year - birth.year;
  if (on.month < birth.month || (on.month === birth.month && on.day < birth.day)) age -= 1;
  return age;
}

const TEHRAN_PARTS = new Intl.DateTimeFormat("en-US", {
  timeZone: "Asia/Tehran",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

/**
 * A UTC timestamp (RFC 3339, as the Rust side sends DateTime<Utc>) as a
 * Jalali date and time in Tehran: «۱۴۰۵/۰۹/۰۴ ساعت ۱۴:۰۵». Null when it is
 * not a timestamp.
 */
export function formatTehranDateTime(timestamp: string): string | null {
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return null;
  const parts: Record<string, string> = {};
  for (const p of TEHRAN_PARTS.formatToParts(new Date(t))) parts[p.type] = p.value;
  const j = toJalaali(Number(parts.year), Number(parts.month), Number(parts.day));
  const date = formatJalali({ year: j.jy, month: j.jm, day: j.jd });
  return `${date} ساعت ${toPersianDigits(`${parts.hour}:${parts.minute}`)}`;
}
