// Form checks the window makes before sending (the store checks again and
// has the last word). Messages say what is wrong and what to do.
import { normalizeCode } from "./digits";

/** The official check of an Iranian national id (کد ملی). */
export function isValidNationalId(input: string): boolean {
  const id = normalizeCode(input).replace(/-/g, "");
  if (!/^\d{10}$/.test(id) || /^(\d)\1{9}$/.test(id)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(id[i]) * (10 - i);
  const r = sum % 11;
  const check = Number(id[9]);
  return r < 2 ? check === r : check === 11 - r;
}

/** 09xxxxxxxxx in any digit script, with +98 / 0098 / spaces / dashes allowed. */
export function normalizeMobile(input: string): string | null {
  let m = normalizeCode(input).replace(/[\s\-()]/g, "");
  if (m.startsWith("+98")) m = "0" + m.slice(3);
  else if (m.startsWith("0098")) m = "0" + m.slice(4);
  else if (m.startsWith("98") && m.length === 12) m = "0" + m.slice(2);
  else if (m.startsWith("9") && m.length === 10) m = "0" + m;
  return /^09\d{9}$/.test(m) ? m : null;
}

export type FieldErrors = Record<string, string>;

export interface MemberFormInput {
  first_name: string;
  last_name: string;
  father_name: string;
  national_id: string;
  alternative_id_kind: string;
  alternative_id_value: string;
  guardian_phone: string;
  birth_date: string;
}

/** Errors per field of the registration form (empty: the form may be sent). */
export function validateMemberForm(f: MemberFormInput, parseDate: (s: string) => { ok: boolean; error?: string }): FieldErrors {
  const e: FieldErrors = {};
  if (f.first_name.trim() === "") e.first_name = "نام را وارد کنید.";
  if (f.last_name.trim() === "") e.last_name = "نام خانوادگی را وارد کنید.";
  const nid = f.national_id.trim();
  if (nid !== "" && !isValidNationalId(nid)) {
    e.national_id = "کد ملی درست نیست؛ ۱۰ رقم آن را از روی کارت یا شناسنامه دوباره وارد کنید.";
  }
  if (nid === "" && (f.alternative_id_kind.trim() === "" || f.alternative_id_value.trim() === "")) {
    e.national_id = "کد ملی یا یک مدرک جایگزین (نوع و شماره) را وارد کنید.";
  }
  if (f.guardian_phone.trim() !== "" && normalizeMobile(f.guardian_phone) === null) {
    e.guardian_phone = "شماره همراه باید ۱۱ رقم و با ۰۹ شروع شود (مثل ۰۹۱۲۱۲۳۴۵۶۷).";
  }
  if (f.birth_date.trim() !== "") {
    const d = parseDate(f.birth_date);
    if (!d.ok) e.birth_date = d.error ?? "تاریخ تولد درست نیست.";
  }
  return e;
}
