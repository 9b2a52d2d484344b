// docs/SPEC.md is what miners implement from, and docs/DEPLOY.md sizes the GPU hosts: their
// generated tables must match the code, and what they say of the rate limits wrangler.toml.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RATE_LIMIT_PERIOD_S } from "../../schema/api/rate-limits.ts";
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

describe("the rate limits", () => {
  const toml = readFileSync(path.resolve(import.meta.dirname, "../../wrangler.toml"), "utf8");
  /** Each [[…ratelimits]] block's name, limit and period, in file order. */
  const limits = [
    ...toml.matchAll(
      /\[\[(?:env\.production\.)?ratelimits\]\]\nname = "(\w+)"\nnamespace_id = "\d+"\nsimple = \{ limit = (\d+), period = (\d+) \}/g,
    ),
  ].map((m) => ({ name: m[1], limit: Number(m[2]), period: Number(m[3]) }));

  it("are the same in wrangler.toml's local and production environments, with the period Retry-After names", () => {
    expect(limits.map((l) => l.name)).toEqual(["UPLOAD_LIMITER", "READ_LIMITER", "UPLOAD_LIMITER", "READ_LIMITER"]);
    expect(limits.slice(2)).toEqual(limits.slice(0, 2));
    for (const l of limits) expect(l.period).toBe(RATE_LIMIT_PERIOD_S);
  });

  it("are the ones docs/SPEC.md and docs/DEPLOY.md tell", () => {
    const [upload, read] = limits as unknown as [{ limit: number }, { limit: number }];
    expect(spec).toContain(`at most\n${upload.limit} upload requests`);
    expect(spec).toContain(`and ${read.limit} reads (\`GET\`) per ${RATE_LIMIT_PERIOD_S} seconds`);
    expect(deploy).toContain(`(${upload.limit} per ${RATE_LIMIT_PERIOD_S} s)`);
    expect(deploy).toContain(`(${read.limit} per ${RATE_LIMIT_PERIOD_S} s)`);
  });
});
