// Barcode labels for copies: reading a typed list or range of registration
// numbers ("100-120, 130" in any digit script) and laying labels out on
// A4 sheets of 3 × 8.
import { toAsciiDigits, toPersianDigits } from "./digits";

export const LABEL_COLUMNS = 3;
export const LABEL_ROWS = 8;
export const LABELS_PER_SHEET = LABEL_COLUMNS * LABEL_ROWS;
/** More than this in one go is almost certainly a typo (a missing digit). */
const MAX_LABELS = 1000;

export interface LabelItem {
  registration_number: string;
  title: string;
}

/** What the catalog passes to the label screen (as JSON in `app.param`). */
export interface LabelRequest {
  labels: LabelItem[];
  /** The title the catalog had open, to return to it. */
  title_id?: string;
}

export type ParsedNumbers = { ok: true; numbers: string[] } | { ok: false; error: string };

const INVISIBLE = /[\u200c\u200d\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Reads registration numbers typed as a list and ranges: separated by
 * commas (, ، ؛ ;), spaces or new lines; a range is «۱۰۰-۱۲۰», «100 – 120»
 * or «۱۰۰ تا ۱۲۰» (both ends included; leading zeros kept when the ends
 * have the same width). Repeats are dropped, the order is kept.
 */
export function parseRegistrationNumbers(input: string, max: number = MAX_LABELS): ParsedNumbers {
  const text = toAsciiDigits(input)
    .replace(INVISIBLE, "")
    .replace(/(\d)\s*(?:[-–—]|\s+تا\s+)\s*(\d)/g, "$1-$2");
  const tokens = text.split(/[\s,،;؛]+/).filter((t) => t !== "");
  if (tokens.length === 0) {
    return { ok: false, error: "شماره‌های ثبت را وارد کنید؛ مثل «۱۰۰-۱۲۰، ۱۳۰»." };
  }
  const seen = new Set<string>();
  const numbers: string[] = [];
  const add = (n: string): boolean => {
    if (seen.has(n)) return true;
    seen.add(n);
    numbers.push(n);
    return numbers.length <= max;
  };
  const tooMany = (): ParsedNumbers => ({
    ok: false,
    error: `بیش از ${toPersianDigits(max)} شماره شد؛ بازه‌ها را بررسی کنید (شاید رقمی جا افتاده) یا در چند نوبت وارد کنید.`,
  });
  for (const token of tokens) {
    const range = /^(\d+)-(\d+)$/.exec(token);
    if (!range) {
      if (/^[-–—]|[-–—]$/.test(token)) {
        return { ok: false, error: `بازه «${toPersianDigits(token)}» ناقص است؛ ابتدا و انتهای آن را بنویسید (مثل ۱۰۰-۱۲۰).` };
      }
      if (!add(token)) return tooMany();
      continue;
    }
    const [, a = "", b = ""] = range;
    const from = BigInt(a);
    const to = BigInt(b);
    if (from > to) {
      return {
        ok: false,
        error: `در بازه «${toPersianDigits(token)}» ابتدا از انتها بزرگ‌تر است؛ شماره کوچک‌تر را اول بنویسید.`,
      };
    }
    if (to - from >= BigInt(max)) return tooMany();
    const width = a.length === b.length && a.startsWith("0") ? a.length : 0;
    for (let n = from; n <= to; n++) {
      if (!add(n.toString().padStart(width, "0"))) return tooMany();
    }
  }
  return { ok: true, numbers };
}

/**
 * Splits labels into sheets of `perSheet`, leaving the first `skip` places
 * of the first sheet empty (a sheet partly used before). Empty places are
 * null.
 */
export function pageLabels<T>(labels: readonly T[], perSheet: number = LABELS_PER_SHEET, skip = 0): (T | null)[][] {
  const size = Math.max(1, Math.floor(perSheet));
  const offset = Math.min(Math.max(0, Math.floor(skip)), size - 1);
  const cells: (T | null)[] = [...Array.from({ length: offset }, (): T | null => null), ...labels];
  if (labels.length === 0) return [];
  const sheets: (T | null)[][] = [];
  for (let i = 0; i < cells.length; i += size) {
    const sheet = cells.slice(i, i + size);
    while (sheet.length < size) sheet.push(null);
    sheets.push(sheet);
  }
  return sheets;
}

export function encodeLabelRequest(request: LabelRequest): string {
  return JSON.stringify(request);
}

function isLabelItem(v: unknown): v is LabelItem {
  if (typeof v !== "object" || v === null) return false;
  const o = v as { registration_number?: unknown; title?: unknown };
  return typeof o.registration_number === "string" && o.registration_number !== "" && typeof o.title === "string";
}

/** The request in `app.param`: a LabelRequest or a bare list of labels; null when absent or unreadable. */
export function decodeLabelRequest(param: string | null): LabelRequest | null {
  if (param === null || param.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(param);
  } catch {
    return null;
  }
  const list: unknown = Array.isArray(value)
    ? value
    : typeof value === "object" && value !== null
      ? (value as { labels?: unknown }).labels
      : undefined;
  if (!Array.isArray(list)) return null;
  const labels = list.filter(isLabelItem).map((l) => ({ registration_number: l.registration_number, title: l.title }));
  if (labels.length === 0) return null;
  const titleId =
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as { title_id?: unknown }).title_id
      : undefined;
  return typeof titleId === "string" ? { labels, title_id: titleId } : { labels };
}

/** The registration number as the barcode carries it (ASCII, no spaces or marks). */
export function barcodeValue(registrationNumber: string): string {
  return toAsciiDigits(registrationNumber).replace(INVISIBLE, "").replace(/\s+/g, "");
}
