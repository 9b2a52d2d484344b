// docs/SPEC.md is what miners implement from, and docs/DEPLOY.md sizes the GPU hosts: their
// generated tables must match the code.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../schema/errors.ts";
import { PROFILES } from "../../schema/hparams.ts";
import { gpuMemory, SHAPES, withDeployTables } from "../../scripts/docs/gpu-memory.ts";
import { withSpecTables } from "../../scripts/docs/spec-tables.ts";

const spec = readFileSync(path.resolve(import.meta.dirname, "../../docs/SPEC.md"), "utf8");
const deploy = readFileSync(path.resolve(import.meta.dirname, "../../docs/DEPLOY.md"), "utf8");

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

describe("docs/DEPLOY.md", () => {
  it("has current GPU memory tables (run `npm run docs:deploy` after changing the shapes or the compression)", () => {
    expect(withDeployTables(deploy)).toBe(deploy);
  });

  it("sizes the shapes Templar ran, with their documented parameter counts", () => {
    const counts = SHAPES.map(([name, c]) => [name, gpuMemory(name, c, PROFILES.default.compression).parameters]);
    expect(counts).toEqual([
      ["150M", 214_983_680],
      ["1B", 1_204_881_408],
      ["8B", 7_241_732_096],
      ["72B", 72_747_327_488],
    ]);
  });
});
