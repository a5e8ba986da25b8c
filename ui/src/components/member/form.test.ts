import { describe, expect, it } from "vitest";
import { emptyFeeForm, feeFormErrors, feeInputFromForm } from "./form";

const exemptions = [
  { code: "postal", name: "اعضای مراکز پستی", active: true },
  { code: "old", name: "طرح قدیمی", active: false },
];

describe("the membership fee form", () => {
  it("needs a listed, active exemption and its reason", () => {
    const f = { ...emptyFeeForm(350000), mode: "exempt" as const, exemption: "old", reason: "" };
    expect(Object.keys(feeFormErrors(f, exemptions)).sort()).toEqual(["fee_exemption", "fee_reason"]);
    expect(feeFormErrors({ ...f, exemption: "postal", reason: "نامه ۱۲" }, exemptions)).toEqual({});
  });
  it("accepts a campaign of the province that runs today, with no reason", () => {
    const f = { ...emptyFeeForm(350000), mode: "exempt" as const, exemption: "childrens_week", reason: "" };
    expect(Object.keys(feeFormErrors(f, exemptions))).toContain("fee_exemption");
    expect(feeFormErrors(f, exemptions, ["childrens_week"])).toEqual({});
    expect(feeInputFromForm(f)).toEqual({ type: "exempt", exemption: "childrens_week", reason: "" });
  });
});
