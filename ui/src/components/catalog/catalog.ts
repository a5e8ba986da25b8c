// Catalog vocabulary shown to staff: copy status, withdraw reasons (the
// age groups are the center's own: lib/reference.svelte.ts).
import type { CopyStatus, CopyView, WithdrawReason } from "../../lib/bindings";
import { toAsciiDigits, toPersianDigits } from "../../lib/digits";

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

/** Iran's ISBN registration groups (after 978 in an ISBN-13). */
const IRAN_GROUPS = ["964", "600", "622"];

/** An ISBN as printed on the book's back: 978-964-XXXXX-C, in Persian
 * digits. The prefix, Iran's group and the check digit are split off;
 * publisher and item are left together (their split needs the agency's
 * ranges). Anything not 10 or 13 characters is shown as stored. */
export function formatIsbn(stored: string): string {
  const d = toAsciiDigits(stored).replace(/[^0-9Xx]/g, "").toUpperCase();
  const group = (body: string) => IRAN_GROUPS.find((g) => body.startsWith(g));
  const split = (body: string) => {
    const g = group(body);
    return g ? `${g}-${body.slice(g.length)}` : body;
  };
  if (d.length === 13) return toPersianDigits(`${d.slice(0, 3)}-${split(d.slice(3, 12))}-${d.slice(12)}`);
  if (d.length === 10) return toPersianDigits(`${split(d.slice(0, 9))}-${d.slice(9)}`);
  return toPersianDigits(stored);
}
