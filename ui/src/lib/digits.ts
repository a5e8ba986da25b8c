// Digits: staff type Persian, Arabic or Latin digits (and scanners send
// Latin); the window shows Persian digits.

const PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
const ARABIC = "٠١٢٣٤٥٦٧٨٩";

/** Every Persian or Arabic-Indic digit as its ASCII digit; the rest unchanged. */
export function toAsciiDigits(s: string): string {
  let out = "";
  for (const ch of s) {
    let i = PERSIAN.indexOf(ch);
    if (i < 0) i = ARABIC.indexOf(ch);
    out += i >= 0 ? String(i) : ch;
  }
  return out;
}

/** Every ASCII or Arabic-Indic digit as a Persian digit. */
export function toPersianDigits(s: string | number): string {
  let out = "";
  for (const ch of String(s)) {
    const a = ARABIC.indexOf(ch);
    if (ch >= "0" && ch <= "9") out += PERSIAN[ch.charCodeAt(0) - 48];
    else if (a >= 0) out += PERSIAN[a];
    else out += ch;
  }
  return out;
}

/** What a scan or typed code field holds: ASCII digits, no spaces or marks. */
export function normalizeCode(s: string): string {
  return toAsciiDigits(s)
    .replace(/[\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .trim();
}

/** A whole number typed in any digit script (with Persian or Latin thousands separators), or null. */
export function parseInteger(s: string): number | null {
  const t = toAsciiDigits(s).replace(/[,\u066c\u060c\s]/g, "");
  if (!/^-?\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

/** A number with Persian digits and the Persian thousands separator. */
export function formatNumber(n: number): string {
  const s = Math.trunc(Math.abs(n)).toString().replace(/\B(?=(\d{3})+(?!\d))/g, "٬");
  return (n < 0 ? "−" : "") + toPersianDigits(s);
}

export function formatRials(n: number): string {
  return `${formatNumber(n)} ریال`;
}
