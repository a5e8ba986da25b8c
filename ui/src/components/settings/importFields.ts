// The migration import's vocabulary (crates/kanoon-import/src/mapping.rs):
// which fields each kind of file has, their Persian names, and which must
// be mapped.
import type { ColumnMapping, Field, ImportKind, SourceInfo } from "../../lib/bindings";
import { toPersianDigits } from "../../lib/digits";

export const KINDS: readonly { value: ImportKind; label: string; help: string }[] = [
  { value: "members", label: "اعضا", help: "هر سطر یک عضو." },
  { value: "titles_copies", label: "کتاب‌ها و نسخه‌ها", help: "هر سطر یک نسخه با مشخصات کتابش (کتابی با سه نسخه، سه سطر است)." },
  { value: "open_loans", label: "امانت‌های باز", help: "هر سطر یک نسخه که اکنون در امانت است؛ پس از ورود اعضا و کتاب‌ها." },
];

export const FIELD_LABELS: Record<Field, string> = {
  member_number: "شماره عضویت",
  first_name: "نام",
  last_name: "نام خانوادگی",
  full_name: "نام و نام خانوادگی (در یک ستون)",
  father_name: "نام پدر",
  gender: "جنسیت",
  birth_date: "تاریخ تولد",
  national_id: "کد ملی",
  alt_id_kind: "نوع شناسه جایگزین",
  alt_id: "شناسه جایگزین",
  school_grade: "پایه تحصیلی",
  guardian_phone: "تلفن همراه ولی",
  address: "نشانی",
  village: "روستا",
  joined_on: "تاریخ عضویت",
  membership_expires: "اعتبار عضویت تا",
  registration_number: "شماره ثبت",
  title: "عنوان کتاب",
  author: "نویسنده",
  translator: "مترجم",
  illustrator: "تصویرگر",
  publisher: "ناشر",
  year: "سال نشر",
  isbn: "شابک",
  age_group: "گروه سنی",
  subjects: "موضوع",
  loan_member_number: "شماره عضویت امانت‌گیرنده",
  loan_registration_number: "شماره ثبت کتاب",
  loaned_on: "تاریخ امانت",
  due_on: "موعد بازگشت",
};

export const FIELDS: Record<ImportKind, readonly Field[]> = {
  members: [
    "member_number", "first_name", "last_name", "full_name", "father_name", "gender", "birth_date",
    "national_id", "alt_id_kind", "alt_id", "school_grade", "guardian_phone", "address", "village",
    "joined_on", "membership_expires",
  ],
  titles_copies: [
    "registration_number", "title", "author", "translator", "illustrator", "publisher", "year", "isbn",
    "age_group", "subjects",
  ],
  open_loans: ["loan_member_number", "loan_registration_number", "loaned_on", "due_on"],
};

export const FIELD_HELP: Partial<Record<Field, string>> = {
  member_number: "شماره کارت در نرم‌افزار قبلی؛ به‌عنوان شماره قدیمی نگه داشته می‌شود.",
  full_name: "اگر نام و نام خانوادگی در یک ستون است؛ واژه نخست نام و بقیه نام خانوادگی می‌شود.",
  national_id: "کد ملی یا شناسه جایگزین؛ دست‌کم یکی لازم است.",
  alt_id: "برای عضوهای بدون کد ملی (کارت آمایش، گذرنامه…).",
  alt_id_kind: "اگر خالی باشد «سایر» ثبت می‌شود.",
  school_grade: "۰ پیش‌دبستانی تا ۱۲.",
  year: "شمسی یا میلادی، همان‌طور که نوشته شده.",
  due_on: "اگر نباشد، از قاعده امانت حساب می‌شود.",
};

/** Required fields not yet mapped (the rules of ColumnMapping::missing). */
export function missingFields(kind: ImportKind, columns: Partial<Record<Field, number>>): Field[] {
  const mapped = (f: Field) => columns[f] !== undefined;
  const required: Record<ImportKind, Field[]> = {
    members: ["first_name", "last_name"],
    titles_copies: ["registration_number", "title"],
    open_loans: ["loan_member_number", "loan_registration_number", "loaned_on"],
  };
  let missing = required[kind].filter((f) => !mapped(f));
  if (kind === "members") {
    if (mapped("full_name")) missing = missing.filter((f) => f !== "first_name" && f !== "last_name");
    if (!mapped("national_id") && !mapped("alt_id")) missing.push("national_id", "alt_id");
  }
  return missing;
}

/** What the mapping table says beside a field that must (or may) stand for a required value. */
export function requiredNote(kind: ImportKind, field: Field): string {
  if (kind === "members") {
    if (field === "first_name" || field === "last_name") return "(لازم، مگر «نام و نام خانوادگی در یک ستون» باشد)";
    if (field === "national_id" || field === "alt_id") return "(کد ملی یا شناسه جایگزین لازم است)";
    return "";
  }
  return missingFields(kind, {}).includes(field) ? "(لازم)" : "";
}

/** Only the fields of `kind`, with columns in range. */
export function mappingFor(kind: ImportKind, columns: Partial<Record<Field, number>>, columnCount: number): ColumnMapping {
  const out: Partial<Record<Field, number>> = {};
  for (const f of FIELDS[kind]) {
    const c = columns[f];
    if (c !== undefined && c >= 0 && c < columnCount) out[f] = c;
  }
  return { columns: out };
}

export function describeSource(s: SourceInfo): string {
  const parts: string[] = [];
  if (s.format === "xlsx") {
    parts.push("پرونده اکسل");
    if (s.sheet) parts.push(`برگه «${s.sheet}»`);
  } else {
    parts.push("پرونده متنی جدول (ستون‌ها با جداکننده)");
    const enc: Record<string, string> = {
      "UTF-8": "یونی‌کد",
      "windows-1256": "عربی ویندوز (۱۲۵۶)",
      "UTF-16LE": "یونی‌کد ۱۶ بیتی",
      "UTF-16BE": "یونی‌کد ۱۶ بیتی",
    };
    if (s.encoding) parts.push(`نویسه‌گذاری ${enc[s.encoding] ?? s.encoding}`);
    const del: Record<string, string> = { ",": "ویرگول", ";": "نقطه‌ویرگول", "\t": "فاصله جدول‌بندی", "|": "خط عمودی" };
    if (s.delimiter !== null) parts.push(`جداکننده ${del[s.delimiter] ?? `«${s.delimiter}»`}`);
  }
  return parts.join("، ");
}

export function columnName(headers: readonly string[], i: number): string {
  const h = headers[i]?.trim() ?? "";
  return h === "" ? `ستون ${toPersianDigits(i + 1)}` : `ستون ${toPersianDigits(i + 1)}: ${h}`;
}
