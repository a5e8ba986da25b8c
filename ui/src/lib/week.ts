// Iranian weeks (Saturday to Friday) over the ISO dates the desk sends.

/** شنبه … جمعه, in week order. */
export const WEEKDAYS = ["شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه"] as const;

function toUtc(iso: string): Date {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1));
}

function toIso(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The ISO date `n` days after (before, when negative) `iso`. */
export function addDays(iso: string, n: number): string {
  const d = toUtc(iso);
  d.setUTCDate(d.getUTCDate() + n);
  return toIso(d);
}

/** 0 for Saturday … 6 for Friday. */
export function weekdayIndex(iso: string): number {
  return (toUtc(iso).getUTCDay() + 1) % 7;
}

/** The Saturday that starts the week of `iso`. */
export function weekStart(iso: string): string {
  return addDays(iso, -weekdayIndex(iso));
}

/** "HH:MM" from what was typed (any digits), or null. */
export function parseClock(text: string): string | null {
  const ascii = text.trim().replace(/[۰-۹]/g, (c) => String("۰۱۲۳۴۵۶۷۸۹".indexOf(c)));
  const m = /^(\d{1,2}):(\d{1,2})$/.exec(ascii);
  if (!m) return null;
  const [h, min] = [Number(m[1]), Number(m[2])];
  if (h > 23 || min > 59) return null;
  return `${String(h).padStart(2, "0")}:${String(min).padStart(2, "0")}`;
}
