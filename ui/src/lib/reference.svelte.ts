// The lists the desk applies: the age groups books and members are shelved
// by (read once a session, on first use), the fee exemptions and the
// province's fee campaigns (read again whenever a screen asks: sync may
// have brought the province's new list), and where each setting's value
// came from. A failed read is tried again the next time a screen asks.
import type { AgeGroup, AgeScheme, FeeCampaignView, FeeExemption, SettingOrigins } from "./bindings";
import { toPersianDigits } from "./digits";
import { call } from "./ipc";
import { Loader } from "./remote.svelte";

export const ageGroups = new Loader<AgeGroup[]>(() => call("age_groups", null));
export const feeExemptions = new Loader<FeeExemption[]>(() => call("fee_exemptions", null));
export const feeCampaigns = new Loader<FeeCampaignView[]>(() => call("fee_campaigns", null));
export const settingOrigins = new Loader<SettingOrigins>(() => call("setting_origins", null));

/** Starts reading the lists (call from a screen's onMount). */
export function loadReference(): void {
  ageGroups.ensure();
  void feeExemptions.reload();
  void feeCampaigns.reload();
}

/** The campaigns that waive the fee today for a registration or a renewal. */
export function campaignsToday(action: "registration" | "renewal"): FeeCampaignView[] {
  return (feeCampaigns.data ?? []).filter((c) => c.active_today && c[action]);
}

/** One scheme's groups in shelf order. */
export function groupsOf(groups: readonly AgeGroup[] | null, scheme: AgeScheme): AgeGroup[] {
  return (groups ?? []).filter((g) => g.scheme === scheme).sort((a, b) => a.sort - b.sort);
}

/**
 * An age group as staff read it, with Persian digits: the letter groups by
 * their label («گروه ب: …»), a minimum-age mark with its label
 * («+۷ (از ۷ سالگی)»); a code the list does not know, as written.
 */
export function ageGroupText(code: string | null, groups: readonly AgeGroup[] | null): string {
  if (code === null || code === "") return "بدون گروه سنی";
  const g = groups?.find((x) => x.code === code);
  if (!g) return toPersianDigits(code);
  const text = g.scheme === "minimum_age" && code.startsWith("+") ? `${code} (${g.label})` : g.label;
  return toPersianDigits(text);
}

/** `ageGroupText` against the center's groups (as read so far). */
export function ageGroupLabel(code: string | null): string {
  return ageGroupText(code, ageGroups.data);
}

/** The minimum-age group a reader of this age has reached (a display hint; the store decides). */
export function minimumAgeGroup(age: number, groups: readonly AgeGroup[] | null): AgeGroup | null {
  let best: AgeGroup | null = null;
  for (const g of groupsOf(groups, "minimum_age")) if (g.min_age <= age && (!best || g.min_age > best.min_age)) best = g;
  return best;
}

/** An exemption's name (its code when the list does not know it). */
export function exemptionName(code: string): string {
  return feeExemptions.data?.find((x) => x.code === code)?.name ?? feeCampaigns.data?.find((c) => c.code === code)?.name ?? code;
}
