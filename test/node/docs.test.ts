// docs/SPEC.md is what miners implement from: its generated tables must match the code.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../schema/errors.ts";
import { withSpecTables } from "../../scripts/docs/spec-tables.ts";

const spec = readFileSync(path.resolve(import.meta.dirname, "../../docs/SPEC.md"), "utf8");

describe("docs/SPEC.md", () => {
  it("has current generated tables (run `npm run docs:spec` after changing codes or hparams)", () => {
    expect(withSpecTables(spec)).toBe(spec);
  });

  it("lists every error code with its HTTP status", () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(spec).toContain(`| \`${code}\` | ${info.status} |`);
    }
  });
});
