import { describe, expect, it } from "vitest";
import { formatIsbn } from "./catalog";

describe("formatIsbn", () => {
  it("splits an Iranian ISBN-13 into prefix, group, the rest and the check digit", () => {
    expect(formatIsbn("9789643180117")).toBe("۹۷۸-۹۶۴-۳۱۸۰۱۱-۷");
    expect(formatIsbn("978-600-123-456-7")).toBe("۹۷۸-۶۰۰-۱۲۳۴۵۶-۷");
  });
  it("reads Persian digits and an ISBN-10 with its X", () => {
    expect(formatIsbn("۹۶۴۳۱۸۰۱۱X")).toBe("۹۶۴-۳۱۸۰۱۱-X");
  });
  it("keeps a foreign group together and anything else as stored", () => {
    expect(formatIsbn("9780140449136")).toBe("۹۷۸-۰۱۴۰۴۴۹۱۳-۶");
    expect(formatIsbn("12345")).toBe("۱۲۳۴۵");
  });
});
