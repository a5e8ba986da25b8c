import { describe, expect, it } from "vitest";
import type { AgeGroup } from "./bindings";
import { ageGroupText, groupsOf, minimumAgeGroup } from "./reference.svelte";

const GROUPS: AgeGroup[] = [
  { code: "+7", scheme: "minimum_age", label: "از 7 سالگی", min_age: 7, sort: 4 },
  { code: "ب", scheme: "letters", label: "گروه ب: سال‌های اول تا سوم دبستان", min_age: 7, sort: 2 },
  { code: "+0", scheme: "minimum_age", label: "از تولد", min_age: 0, sort: 1 },
  { code: "الف", scheme: "letters", label: "گروه الف: پیش از دبستان", min_age: 0, sort: 1 },
  { code: "مربی", scheme: "minimum_age", label: "مربیان و والدین", min_age: 18, sort: 8 },
];

describe("age groups", () => {
  it("labels every group one way, with Persian digits", () => {
    expect(ageGroupText("ب", GROUPS)).toBe("گروه ب: سال‌های اول تا سوم دبستان");
    expect(ageGroupText("+7", GROUPS)).toBe("+۷ (از ۷ سالگی)");
    expect(ageGroupText("مربی", GROUPS)).toBe("مربیان و والدین");
  });

  it("shows an unknown code as written, and none as such", () => {
    expect(ageGroupText("+13", GROUPS)).toBe("+۱۳");
    expect(ageGroupText("+7", null)).toBe("+۷");
    expect(ageGroupText(null, GROUPS)).toBe("بدون گروه سنی");
    expect(ageGroupText("", GROUPS)).toBe("بدون گروه سنی");
  });

  it("lists a scheme in shelf order", () => {
    expect(groupsOf(GROUPS, "letters").map((g) => g.code)).toEqual(["الف", "ب"]);
    expect(groupsOf(GROUPS, "minimum_age").map((g) => g.code)).toEqual(["+0", "+7", "مربی"]);
    expect(groupsOf(null, "letters")).toEqual([]);
  });

  it("finds the minimum-age group a reader has reached", () => {
    expect(minimumAgeGroup(6, GROUPS)?.code).toBe("+0");
    expect(minimumAgeGroup(7, GROUPS)?.code).toBe("+7");
    expect(minimumAgeGroup(40, GROUPS)?.code).toBe("مربی");
    expect(minimumAgeGroup(3, [])).toBeNull();
  });
});
