// The fee settings the fee fields need: the yearly amount and the center's
// exemptions. Either may fail to load; the form still works (typed amount).
import { call } from "../../lib/ipc";
import type { FeeExemption } from "../../lib/bindings";

export interface FeeOptions {
  feeRials: number | null;
  exemptions: FeeExemption[];
}

export async function loadFeeOptions(): Promise<FeeOptions> {
  const [terms, exemptions] = await Promise.all([
    call("membership_terms", null).catch(() => null),
    call("fee_exemptions", null).catch(() => [] as FeeExemption[]),
  ]);
  return { feeRials: terms?.fee_rials ?? null, exemptions };
}
