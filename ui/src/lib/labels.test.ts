import { describe, expect, it } from "vitest";
import {
  LABELS_PER_SHEET,
  barcodeValue,
  decodeLabelRequest,
  encodeLabelRequest,
  pageLabels,
  parseRegistrationNumbers,
} from "./labels";

function numbers(input: string, max?: number): string[] {
  const r = parseRegistrationNumbers(input, max);
  if (!r.ok) throw new Error(r.error);
  return r.numbers;
}

describe("parseRegistrationNumbers", () => {
  it("reads ranges and single numbers in any digit script", () => {
    expect(numbers("100-103, 130")).toEqual(["100", "101", "102", "103", "130"]);
    expect(numbers("۱۰۰-۱۰۲، ۱۳۰")).toEqual(["100", "101", "102", "130"]);
    expect(numbers("٢٠ - ٢١")).toEqual(["20", "21"]);
    expect(numbers("۵ تا ۷")).toEqual(["5", "6", "7"]);
    expect(numbers("8–9")).toEqual(["8", "9"]);
  });
  it("splits on new lines, spaces and Persian separators", () => {
    expect(numbers("1\n2 3؛4;5\r\n6")).toEqual(["1", "2", "3", "4", "5", "6"]);
  });
  it("drops repeats and keeps the order", () => {
    expect(numbers("5, 3-6, 3")).toEqual(["5", "3", "4", "6"]);
  });
  it("keeps leading zeros of equal-width ends", () => {
    expect(numbers("0098-0101")).toEqual(["0098", "0099", "0100", "0101"]);
  });
  it("keeps numbers with letters as they are", () => {
    expect(numbers("الف12, 7")).toEqual(["الف12", "7"]);
  });
  it("ignores invisible marks", () => {
    expect(numbers("\u200f۱۲\u200c")).toEqual(["12"]);
  });
  it("refuses empty input, reversed and huge ranges in Persian", () => {
    const empty = parseRegistrationNumbers("  , ");
    expect(empty.ok).toBe(false);
    const reversed = parseRegistrationNumbers("120-100");
    expect(reversed.ok).toBe(false);
    if (!reversed.ok) expect(reversed.error).toContain("۱۲۰-۱۰۰");
    expect(parseRegistrationNumbers("1-100000").ok).toBe(false);
    expect(parseRegistrationNumbers("1-10", 5).ok).toBe(false);
    expect(parseRegistrationNumbers("1-5", 5).ok).toBe(true);
    expect(parseRegistrationNumbers("100-").ok).toBe(false);
  });
});

describe("pageLabels", () => {
  it("fills sheets of 24 and pads the last with empty places", () => {
    const items = Array.from({ length: 30 }, (_, i) => i);
    const sheets = pageLabels(items);
    expect(sheets).toHaveLength(2);
    expect(sheets[0]).toHaveLength(LABELS_PER_SHEET);
    expect(sheets[1]?.slice(0, 6)).toEqual([24, 25, 26, 27, 28, 29]);
    expect(sheets[1]?.[6]).toBeNull();
    expect(sheets[1]).toHaveLength(LABELS_PER_SHEET);
  });
  it("skips used places on the first sheet", () => {
    const sheets = pageLabels(["a", "b"], 24, 23);
    expect(sheets).toHaveLength(2);
    expect(sheets[0]?.[22]).toBeNull();
    expect(sheets[0]?.[23]).toBe("a");
    expect(sheets[1]?.[0]).toBe("b");
  });
  it("makes no sheet for no labels and clamps odd arguments", () => {
    expect(pageLabels([])).toEqual([]);
    expect(pageLabels([1], 24, -3)[0]?.[0]).toBe(1);
    expect(pageLabels([1], 4, 99)[0]?.[3]).toBe(1);
  });
});

describe("label requests", () => {
  it("round-trips and accepts a bare list", () => {
    const req = { labels: [{ registration_number: "12", title: "کتاب" }], title_id: "t1" };
    expect(decodeLabelRequest(encodeLabelRequest(req))).toEqual(req);
    expect(decodeLabelRequest('[{"registration_number":"5","title":""}]')).toEqual({
      labels: [{ registration_number: "5", title: "" }],
    });
  });
  it("returns null for nothing or garbage", () => {
    expect(decodeLabelRequest(null)).toBeNull();
    expect(decodeLabelRequest("")).toBeNull();
    expect(decodeLabelRequest("{")).toBeNull();
    expect(decodeLabelRequest('{"labels":[{"x":1}]}')).toBeNull();
    expect(decodeLabelRequest("42")).toBeNull();
  });
  it("encodes the barcode value in ASCII", () => {
    expect(barcodeValue(" ۱۲ ۳\u200c")).toBe("123");
  });
});
