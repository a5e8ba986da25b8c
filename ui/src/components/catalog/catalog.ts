// Catalog vocabulary shown to staff: copy status, withdraw reasons (the
// age groups are the center's own: lib/reference.svelte.ts).
import type { CopyStatus, CopyView, WithdrawReason } from "../../lib/bindings";
import { toPersianDigits } from "../../lib/digits";

export const WITHDRAW_REASONS: readonly { value: WithdrawReason; label: string }[] = [
  { value: "lost", label: "گم شده" },
  { value: "damaged", label: "آسیب دیده (قابل امانت نیست)" },
  { value: "weeded", label: "وجین (کنار گذاشته شده از مجموعه)" },
];

function withdrawReasonLabel(r: WithdrawReason): string {
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
