import { describe, expect, it } from "vitest";
import { cameraErrorMessage, centerCrop, looksLikeImage } from "./photo";

describe("centerCrop", () => {
  it("trims the sides of a landscape picture equally", () => {
    expect(centerCrop(640, 480)).toEqual({ sx: 140, sy: 0, sw: 360, sh: 480 });
    expect(centerCrop(1920, 1080)).toEqual({ sx: 555, sy: 0, sw: 810, sh: 1080 });
  });

  it("trims the top and bottom of a tall picture equally", () => {
    expect(centerCrop(300, 600)).toEqual({ sx: 0, sy: 100, sw: 300, sh: 400 });
    expect(centerCrop(1080, 1920)).toEqual({ sx: 0, sy: 240, sw: 1080, sh: 1440 });
  });

  it("keeps a picture that is already 3:4", () => {
    expect(centerCrop(300, 400)).toEqual({ sx: 0, sy: 0, sw: 300, sh: 400 });
    expect(centerCrop(3000, 4000)).toEqual({ sx: 0, sy: 0, sw: 3000, sh: 4000 });
  });

  it("crops a square to its middle 3:4", () => {
    expect(centerCrop(400, 400)).toEqual({ sx: 50, sy: 0, sw: 300, sh: 400 });
  });

  it("always stays inside the source and keeps about 3:4", () => {
    for (const [w, h] of [[1, 1], [7, 3], [3, 7], [1001, 999], [4032, 3024], [5, 5000], [5000, 5]] as const) {
      const c = centerCrop(w, h);
      expect(c.sx).toBeGreaterThanOrEqual(0);
      expect(c.sy).toBeGreaterThanOrEqual(0);
      expect(c.sx + c.sw).toBeLessThanOrEqual(w);
      expect(c.sy + c.sh).toBeLessThanOrEqual(h);
      expect(c.sw).toBeGreaterThan(0);
      expect(c.sh).toBeGreaterThan(0);
      if (c.sw > 10 && c.sh > 10) expect(Math.abs(c.sw / c.sh - 0.75)).toBeLessThan(0.02);
    }
  });

  it("gives an empty rect for an empty or broken source", () => {
    expect(centerCrop(0, 400)).toEqual({ sx: 0, sy: 0, sw: 0, sh: 0 });
    expect(centerCrop(Number.NaN, 10)).toEqual({ sx: 0, sy: 0, sw: 0, sh: 0 });
  });

  it("takes another aspect when told", () => {
    expect(centerCrop(400, 400, 1, 1)).toEqual({ sx: 0, sy: 0, sw: 400, sh: 400 });
  });
});

describe("looksLikeImage", () => {
  it("accepts image types and picture names without a type", () => {
    expect(looksLikeImage({ type: "image/jpeg", name: "a" })).toBe(true);
    expect(looksLikeImage({ type: "", name: "عکس.JPG" })).toBe(true);
    expect(looksLikeImage({ type: "application/pdf", name: "a.pdf" })).toBe(false);
    expect(looksLikeImage({ type: "", name: "list.xlsx" })).toBe(false);
  });
});

describe("cameraErrorMessage", () => {
  it("says what to do, in Persian", () => {
    expect(cameraErrorMessage({ name: "NotAllowedError" })).toContain("اجازه");
    expect(cameraErrorMessage({ name: "NotFoundError" })).toContain("پیدا نشد");
    expect(cameraErrorMessage(new Error("x"))).toContain("دوباره");
  });
});
