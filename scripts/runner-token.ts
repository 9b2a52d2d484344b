/**
 * Registers a gpu-runner: makes a fresh token, stores only its SHA-256 in D1, prints the token.
 *
 *   npm run runner:token -- --id NAME [--persist-to DIR | --remote [--env production]]
 *
 * Local state defaults to .wrangler/state, where `wrangler dev` keeps it.
 */
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./artifacts/files.ts";
import { type WranglerTarget, wrangler } from "./dev/wrangler-dev.ts";

/**
 * A fresh runner token: 256 random bits in base64url behind a prefix, which keeps it from
 * starting with "-" (a CLI reads `--token -x…` as an option: one bare token in 64 did, and the
 * runner refused to start).
 */
export function newRunnerToken(): string {
  return `rt_${randomBytes(32).toString("base64url")}`;
}

/** Registers runner `id` in the D1 of `target`; resolves with its bearer token (shown once, never stored). */
export async function registerRunner(id: string, target: WranglerTarget, label = id): Promise<string> {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new Error("a runner id is 1-64 of [A-Za-z0-9_.-]");
  const token = newRunnerToken();
  const hash = createHash("sha256").update(token).digest("hex");
  await wrangler(
    [
      "d1",
      "execute",
      "DB",
      "--command",
      `INSERT INTO runners (id, token_hash, label, created_at_ms) VALUES ('${id}', '${hash}', '${label.replace(/'/g, "''")}', ${Date.now()})`,
    ],
    target,
  );
  return token;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      id: { type: "string" },
      label: { type: "string" },
      "persist-to": { type: "string" },
      remote: { type: "boolean", default: false },
      env: { type: "string" },
    },
  });
  if (!values.id || !/^[A-Za-z0-9_.-]{1,64}$/.test(values.id)) {
    console.error("runner:token: --id NAME ([A-Za-z0-9_.-]{1,64}) is required");
    process.exit(2);
  }
  const target: WranglerTarget = values.remote
    ? { remote: true, ...(values.env ? { env: values.env } : {}) }
    : (values["persist-to"] ?? path.join(ROOT, ".wrangler/state"));
  console.log(await registerRunner(values.id, target, values.label));
}
