// Catalog vocabulary shown to staff: age groups (as shipped in
// crates/kanoon-domain/src/age_group.rs), copy status, withdraw reasons.
import type { CopyStatus, CopyView, WithdrawReason } from "../../lib/bindings";
import { toPersianDigits } from "../../lib/digits";

export interface AgeGroupOption {
  code: string;
  label: string;
}

export const LETTER_GROUPS: readonly AgeGroupOption[] = [
  { code: "الف", label: "گروه الف: پیش از دبستان" },
  { code: "ب", label: "گروه ب: سال‌های اول تا سوم دبستان" },
  { code: "ج", label: "گروه ج: سال‌های چهارم تا ششم دبستان" },
  { code: "د", label: "گروه د: دوره اول متوسطه" },
  { code: "ه", label: "گروه ه: دوره دوم متوسطه" },
];

export const MINIMUM_AGE_GROUPS: readonly AgeGroupOption[] = [
  { code: "+0", label: "+۰ (از تولد)" },
  { code: "+2", label: "+۲ (از ۲ سالگی)" },
  { code: "+4", label: "+۴ (از ۴ سالگی)" },
  { code: "+7", label: "+۷ (از ۷ سالگی)" },
  { code: "+9", label: "+۹ (از ۹ سالگی)" },
  { code: "+12", label: "+۱۲ (از ۱۲ سالگی)" },
  { code: "+15", label: "+۱۵ (از ۱۵ سالگی)" },
  { code: "مربی", label: "مربیان و والدین" },
];

export function ageGroupLabel(code: string | null): string {
  if (code === null || code === "") return "بدون گروه سنی";
  const g = [...LETTER_GROUPS, ...MINIMUM_AGE_GROUPS].find((x) => x.code === code);
  return g ? g.label : toPersianDigits(code);
}

export const WITHDRAW_REASONS: readonly { value: WithdrawReason; label: string }[] = [
  { value: "lost", label: "گم شده" },
  { value: "damaged", label: "آسیب دیده (قابل امانت نیست)" },
  { value: "weeded", label: "وجین (کنار گذاشته شده از مجموعه)" },
];

export function withdrawReasonLabel(r: WithdrawReason): string {
  return { lost: "گم شده", damaged: "آسیب دیده", weeded: "وجین شده" }[r];
}

export type StatusTone = "ok" | "warn" | "bad" | "muted";

export function copyStatusText(s: CopyStatus): { text: string; tone: StatusTone } {
  switch (s.type) {
    case "available":
      return { text: "در قفسه", tone: "ok" };
    case "on_loan":
      return {
        text: `در امانت ${s.member_name} (عضو ${toPersianDigits(s.member_number)}) تا ${toPersianDigits(s.due_on_jalali)}`,
        tone: "warn",
      };
    case "withdrawn":
      return { text: `خارج از مجموعه: ${withdrawReasonLabel(s.reason)}`, tone: "bad" };
    case "elsewhere":
      return { text: `در مرکز دیگر (کد ${toPersianDigits(s.center_code)})`, tone: "muted" };
  }
}

/** Copies that normally get a label: in this center's collection. */
export function isLabelable(c: CopyView): boolean {
  return c.status.type === "available" || c.status.type === "on_loan";
}
