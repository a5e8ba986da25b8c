import { describe, expect, it } from "vitest";
import { isValidNationalId, normalizeMobile, validateMemberForm, type MemberFormInput } from "./validate";
import { parseJalali } from "./jalali";

const blank: MemberFormInput = {
  first_name: "سارا", last_name: "احمدی", father_name: "علی", national_id: "0013542419",
  alternative_id_kind: "", alternative_id_value: "", guardian_phone: "", birth_date: "",
};

describe("validation", () => {
  it("checks national ids with the official check digit, any digit script", () => {
    expect(isValidNationalId("0013542419")).toBe(true);
    expect(isValidNationalId("۰۰۱۳۵۴۲۴۱۹")).toBe(true);
    expect(isValidNationalId("0013542418")).toBe(false);
    expect(isValidNationalId("1111111111")).toBe(false);
    expect(isValidNationalId("12345")).toBe(false);
  });
  it("normalizes mobiles", () => {
    expect(normalizeMobile("۰۹۱۲ ۱۲۳ ۴۵۶۷")).toBe("09121234567");
    expect(normalizeMobile("+989121234567")).toBe("09121234567");
    expect(normalizeMobile("9121234567")).toBe("09121234567");
    expect(normalizeMobile("0812345678")).toBeNull();
  });
  it("a complete form has no errors", () => {
    expect(validateMemberForm(blank, parseJalali)).toEqual({});
  });
  it("names every wrong field with what to do", () => {
    const e = validateMemberForm(
      { ...blank, first_name: " ", national_id: "123", guardian_phone: "12", birth_date: "۱۴۰۵/۱۳/۴۰" },
      parseJalali,
    );
    expect(Object.keys(e).sort()).toEqual(["birth_date", "first_name", "guardian_phone", "national_id"]);
    expect(e.national_id).toContain("کد ملی");
  });
  it("an alternative id replaces the national id", () => {
    expect(validateMemberForm({ ...blank, national_id: "" }, parseJalali).national_id).toBeDefined();
    expect(
      validateMemberForm({ ...blank, national_id: "", alternative_id_kind: "گذرنامه", alternative_id_value: "X1" }, parseJalali),
    ).toEqual({});
  });
});
