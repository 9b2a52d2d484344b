// The committed migrations are what the drizzle tables say, and wrangler applies them.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const bin = (name: string) => path.join(root, "node_modules/.bin", name);
const sqlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".sql"));

describe("schema/migrations", () => {
  it("is up to date with schema/db (drizzle-kit generates nothing new)", async () => {
    const out = mkdtempSync(path.join(tmpdir(), "migrations-"));
    cpSync(path.join(root, "schema/migrations"), out, { recursive: true });
    // drizzle-kit prefixes "./" to --out, so it must be relative
    const args = [
      "generate",
      "--dialect",
      "sqlite",
      "--schema",
      "schema/db/index.ts",
      "--out",
      path.relative(root, out),
    ];
    const { stdout } = await run(bin("drizzle-kit"), args, { cwd: root });
    expect(stdout).toContain("No schema changes");
    expect(sqlFiles(out)).toEqual(sqlFiles(path.join(root, "schema/migrations")));
  });

  it("applies with `wrangler d1 migrations apply --local`", async () => {
    const persist = mkdtempSync(path.join(tmpdir(), "d1-"));
    const { stdout } = await run(
      bin("wrangler"),
      ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
      {
        cwd: root,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
      },
    );
    for (const file of sqlFiles(path.join(root, "schema/migrations"))) expect(stdout).toContain(file);
    expect(stdout).toMatch(/commands executed successfully/);
  });
});
