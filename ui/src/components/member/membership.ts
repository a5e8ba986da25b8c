// Membership standing as badges: active until a Jalali day, or expired.
import { app } from "../../lib/app.svelte";
import { toPersianDigits } from "../../lib/digits";

export interface Standing {
  cls: "ok" | "bad" | "warn";
  text: string;
}

/** From a summary's last membership day (ISO) and its Jalali text. */
export function standingOf(endsOn: string | null, endsJalali: string | null): Standing {
  if (!endsOn) return { cls: "warn", text: "بدون عضویت" };
  const today = app.status?.today ?? "";
  const day = endsJalali ? toPersianDigits(endsJalali) : "";
  return endsOn >= today ? { cls: "ok", text: `فعال تا ${day}` } : { cls: "bad", text: `منقضی از ${day}` };
}
