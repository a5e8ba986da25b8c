// The yearly membership fee the fee fields start from. It may fail to
// load; the form still works (the amount is typed). The exemptions are
// the center's list in lib/reference.svelte.ts.
import { call } from "../../lib/ipc";

export async function loadFeeRials(): Promise<number | null> {
  const terms = await call("membership_terms", null).catch(() => null);
  return terms?.fee_rials ?? null;
}
