// Path and query numbers: decimal text only, at most 2^53 − 1, and a refusal quotes the text that
// was sent (never its rounded double).
import { describe, expect, it } from "vitest";
import { decimalParam } from "../../schema/api/request-params.ts";

describe("decimalParam", () => {
  const window = decimalParam("window");

  it("takes 0 and every safe integer, as numbers", () => {
    expect(window.parse("0")).toBe(0);
    expect(window.parse("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("refuses a number above 2^53 − 1 quoting the digits sent", () => {
    for (const text of ["9007199254740993", "9999999999999999"]) {
      const r = window.safeParse(text);
      expect(r.success).toBe(false);
      const message = r.error?.issues[0]?.message ?? "";
      expect(message).toContain(`"${text}"`);
      expect(message).not.toContain(String(Number(text))); // the rounded double differs from the text
    }
  });

  it("refuses signs, leading zeros, exponents and more than 16 digits", () => {
    for (const text of ["-1", "01", "1e3", "1.0", " 1", "12345678901234567"])
      expect(window.safeParse(text).success, text).toBe(false);
  });
});
