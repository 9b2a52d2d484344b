/**
 * A real validator for Node end-to-end tests: `wrangler dev` (workerd with local R2, D1 and
 * Queues) on a fresh state folder, migrated, with artifacts published; SQL and cron ticks on
 * demand. The chain URL points at a closed port unless given: tests seed what the chain would
 * have told the validator.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeArtifacts } from "../../../scripts/artifacts/files.ts";
import { migrate, queryD1, startWranglerDev, type WranglerDev } from "../../../scripts/dev/wrangler-dev.ts";
import { publishArtifacts } from "../../../scripts/publish-artifacts.ts";

export interface LocalValidator {
  readonly url: string;
  readonly persist: string;
  /** Runs SQL against the validator's D1 and returns the rows of the last statement. */
  sql<T = Record<string, unknown>>(command: string): Promise<T[]>;
  /** Triggers the cron handler once. */
  tick(): Promise<void>;
  /** Stops wrangler dev and starts it again on the same port and state (a redeploy, a crash). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalValidator(opts: {
  artifacts: Map<string, Uint8Array>;
  vars?: Record<string, string>;
}): Promise<LocalValidator> {
  const persist = mkdtempSync(path.join(tmpdir(), "validator-"));
  await migrate(persist);
  const dir = path.join(persist, "artifacts");
  writeArtifacts(dir, opts.artifacts);
  await publishArtifacts(dir, persist);
  const vars = { CHAIN_URL: "http://127.0.0.1:9", ...opts.vars };
  let dev: WranglerDev = await startWranglerDev({ persistTo: persist, vars });
  return {
    url: dev.url,
    persist,
    sql: <T>(command: string): Promise<T[]> => queryD1<T>(persist, command),
    async tick() {
      const res = await fetch(`${dev.url}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);
      if (!res.ok) throw new Error(`cron tick: ${res.status} ${await res.text()}`);
    },
    async restart() {
      await dev.stop();
      dev = await startWranglerDev({ persistTo: persist, vars, port: Number(new URL(dev.url).port) });
    },
    async stop() {
      await dev.stop();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` is truthy (or throws after `timeoutMs`). */
export async function until<T>(
  what: string,
  check: () => Promise<T>,
  timeoutMs = 60_000,
  everyMs = 500,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
