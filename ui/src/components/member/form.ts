// The member form's state (what the inputs hold, as typed) and its
// conversion to and from the store's MemberDetails; shared by registration
// and editing.
import { tick } from "svelte";
import type { AgeGroup, CenterKind, FeeExemption, FeeInput, Gender, JalaliDate, MemberDetails } from "../../lib/bindings";
import { formatNumber, parseInteger, toAsciiDigits, toPersianDigits } from "../../lib/digits";
import { ageOn, formatJalali, parseJalali } from "../../lib/jalali";
import { normalizeMobile, validateMemberForm, type FieldErrors } from "../../lib/validate";
import { minimumAgeGroup } from "../../lib/reference.svelte";

export interface MemberFormState {
  first_name: string;
  last_name: string;
  father_name: string;
  gender: Gender;
  /** The birth date as typed (JalaliInput's text). */
  birth_text: string;
  national_id: string;
  alternative_id_kind: string;
  alternative_id_value: string;
  /** "" = not given; "0" = pre-school … "12". */
  school_grade: string;
  guardian_phone: string;
  address: string;
  village: string;
  /** The listed village whose name `village` holds ("" = typed by hand). */
  village_id: string;
  doc_photo: boolean;
  doc_birth_certificate: boolean;
  /** "" = derived from the age; else an age-group code. */
  age_group_override: string;
}

export function emptyMemberForm(): MemberFormState {
  return {
    first_name: "",
    last_name: "",
    father_name: "",
    gender: "female",
    birth_text: "",
    national_id: "",
    alternative_id_kind: "",
    alternative_id_value: "",
    school_grade: "",
    guardian_phone: "",
    address: "",
    village: "",
    village_id: "",
    doc_photo: false,
    doc_birth_certificate: false,
    age_group_override: "",
  };
}

/** Whether nothing has been typed yet (a draft of it is not worth keeping). */
export function isBlankMemberForm(f: MemberFormState): boolean {
  const e = emptyMemberForm();
  return (Object.keys(e) as (keyof MemberFormState)[]).every((k) => k === "gender" || f[k] === e[k]);
}

export function memberFormFromDetails(d: MemberDetails): MemberFormState {
  return {
    first_name: d.first_name,
    last_name: d.last_name,
    father_name: d.father_name,
    gender: d.gender,
    birth_text: d.birth_date ? formatJalali(d.birth_date) : "",
    // Numbers as staff type them: Persian digits (the store reads any).
    national_id: toPersianDigits(d.national_id ?? ""),
    alternative_id_kind: d.alternative_id?.kind ?? "",
    alternative_id_value: toPersianDigits(d.alternative_id?.value ?? ""),
    school_grade: d.school_grade === null ? "" : String(d.school_grade),
    guardian_phone: toPersianDigits(d.guardian_phone ?? ""),
    address: d.address,
    village: d.village ?? "",
    village_id: d.village_id ?? "",
    doc_photo: d.documents.photo,
    doc_birth_certificate: d.documents.birth_certificate_copy,
    age_group_override: d.age_group_override ?? "",
  };
}

/** The listed village (not retired) whose name is typed, if any. */
export function villageIdFor(typed: string, villages: readonly { id: string; name: string; retired: boolean }[]): string {
  const name = villageKey(typed);
  return villages.find((v) => !v.retired && villageKey(v.name) === name)?.id ?? "";
}

/** A village name as compared: Arabic ي/ك as Persian, no ZWNJ, one space. */
function villageKey(s: string): string {
  return s.replace(/ي/g, "ی").replace(/ك/g, "ک").replace(/\u200c/g, "").trim().replace(/\s+/g, " ");
}

function orNull(s: string): string | null {
  const t = s.trim();
  return t === "" ? null : t;
}

/** The details to send; call after `memberFormErrors` found nothing. */
export function memberDetailsFromForm(f: MemberFormState): MemberDetails {
  const birth = f.birth_text.trim() === "" ? null : parseJalali(f.birth_text);
  const altValue = toAsciiDigits(f.alternative_id_value).trim();
  const grade = f.school_grade === "" ? null : parseInteger(f.school_grade);
  return {
    first_name: f.first_name.trim(),
    last_name: f.last_name.trim(),
    father_name: f.father_name.trim(),
    gender: f.gender,
    birth_date: birth && birth.ok ? birth.date : null,
    national_id: orNull(toAsciiDigits(f.national_id)),
    alternative_id: altValue === "" ? null : { kind: f.alternative_id_kind.trim(), value: altValue },
    school_grade: grade,
    guardian_phone: f.guardian_phone.trim() === "" ? null : (normalizeMobile(f.guardian_phone) ?? f.guardian_phone.trim()),
    address: f.address.trim(),
    village: orNull(f.village),
    village_id: f.village_id === "" ? null : f.village_id,
    documents: { photo: f.doc_photo, birth_certificate_copy: f.doc_birth_certificate },
    age_group_override: orNull(f.age_group_override),
  };
}

function jalaliAfter(a: JalaliDate, b: JalaliDate): boolean {
  return a.year !== b.year ? a.year > b.year : a.month !== b.month ? a.month > b.month : a.day > b.day;
}

/** Every per-field error of the member form (empty: it may be sent). */
export function memberFormErrors(f: MemberFormState, centerKind: CenterKind | null, today: JalaliDate | null): FieldErrors {
  const e = validateMemberForm(
    {
      first_name: f.first_name,
      last_name: f.last_name,
      father_name: f.father_name,
      national_id: f.national_id,
      alternative_id_kind: f.alternative_id_kind,
      alternative_id_value: f.alternative_id_value,
      guardian_phone: f.guardian_phone,
      birth_date: f.birth_text,
    },
    parseJalali,
  );
  if (!e.birth_date && today && f.birth_text.trim() !== "") {
    const b = parseJalali(f.birth_text);
    if (b.ok && jalaliAfter(b.date, today)) e.birth_date = "تاریخ تولد بعد از امروز است؛ سال تولد را بررسی کنید.";
  }
  if (f.national_id.trim() !== "" && f.alternative_id_value.trim() !== "" && f.alternative_id_kind.trim() === "") {
    e.alternative_id = "نوع شناسه جایگزین را بنویسید (مثلاً کارت آمایش) یا شماره آن را پاک کنید.";
  }
  if ((centerKind === "mobile" || centerKind === "postal") && f.village.trim() === "") {
    e.village = "برای اعضای مرکز سیار و پستی نام روستا را وارد کنید.";
  }
  return e;
}

/**
 * A display hint only (the store decides): the minimum-age group a reader of
 * this birth date has reached today, as the store derives it.
 */
export function derivedAgeGroup(
  birth: JalaliDate | null,
  today: JalaliDate | null,
  groups: readonly AgeGroup[] | null,
): { age: number; code: string } | null {
  if (!birth || !today) return null;
  const age = ageOn(birth, today);
  if (age < 0) return null;
  const best = minimumAgeGroup(age, groups);
  return best ? { age, code: best.code } : null;
}

export const SCHOOL_GRADES: readonly { value: string; label: string }[] = [
  { value: "0", label: "پیش‌دبستانی" },
  { value: "1", label: "اول" },
  { value: "2", label: "دوم" },
  { value: "3", label: "سوم" },
  { value: "4", label: "چهارم" },
  { value: "5", label: "پنجم" },
  { value: "6", label: "ششم" },
  { value: "7", label: "هفتم" },
  { value: "8", label: "هشتم" },
  { value: "9", label: "نهم" },
  { value: "10", label: "دهم" },
  { value: "11", label: "یازدهم" },
  { value: "12", label: "دوازدهم" },
];

export const GENDER_LABEL: Record<Gender, string> = { female: "دختر", male: "پسر" };

// ---------------------------------------------------------------- fee

export interface FeeFormState {
  mode: "paid" | "exempt";
  /** Rials as typed (any digits, separators allowed). */
  amount: string;
  receipt: string;
  exemption: string;
  reason: string;
}

export function emptyFeeForm(feeRials: number | null = null): FeeFormState {
  return { mode: "paid", amount: feeRials === null ? "" : formatNumber(feeRials), receipt: "", exemption: "", reason: "" };
}

/** `campaigns`: the codes of the province's campaigns that waive this fee today (no reason needed). */
export function feeFormErrors(f: FeeFormState, exemptions: FeeExemption[], campaigns: string[] = []): FieldErrors {
  const e: FieldErrors = {};
  if (f.mode === "paid") {
    const n = parseInteger(f.amount);
    if (n === null || n <= 0) e.fee_amount = "مبلغ پرداختی را به ریال وارد کنید (فقط عدد)، یا «معاف از پرداخت» را انتخاب کنید.";
  } else {
    const campaign = campaigns.includes(f.exemption);
    if (!campaign && !exemptions.some((x) => x.active && x.code === f.exemption)) e.fee_exemption = "نوع معافیت را از فهرست انتخاب کنید.";
    if (!campaign && f.reason.trim() === "") e.fee_reason = "دلیل معافیت را بنویسید (مثلاً شماره نامه یا نام معرف).";
  }
  return e;
}

/** The fee to send; call after `feeFormErrors` found nothing. */
export function feeInputFromForm(f: FeeFormState): FeeInput {
  return f.mode === "paid"
    ? { type: "paid", amount_rials: parseInteger(f.amount) ?? 0, receipt_number: toAsciiDigits(f.receipt).trim() }
    : { type: "exempt", exemption: f.exemption, reason: f.reason.trim() };
}

/** aria-describedby for a field: its help and, when there is one, its error. */
export function describedBy(id: string, hasError: boolean, help = false): string | undefined {
  const ids = [help ? `${id}-help` : "", hasError ? `${id}-error` : ""].filter((x) => x !== "");
  return ids.length ? ids.join(" ") : undefined;
}

/**
 * After a submit has turned the form's errors on: once they are on screen,
 * focuses the first invalid field of the form `formId`. True when there are
 * no errors (the form may be sent).
 */
export async function validOrFocus(formId: string, errors: () => FieldErrors): Promise<boolean> {
  await tick();
  if (Object.keys(errors()).length === 0) return true;
  document.querySelector<HTMLElement>(`#${formId} [aria-invalid='true']`)?.focus();
  return false;
}
