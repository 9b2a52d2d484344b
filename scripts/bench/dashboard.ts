/**
 * `npm run bench:dashboard`: how long the dashboard takes to render against `wrangler dev` on
 * loopback with a long history: 256 uids × 100 scored windows (25,600 submissions, score lines
 * and evaluations, their refusals and copy flags, 100 outer steps and checkpoints). GET / and
 * GET /miners/{uid} are timed against GET /v1/health (no D1 read: the Worker's own floor), the
 * three requests alternating so they see the same background work.
 *
 * Options: --runs N (requests per path, default 30), --uids N (default 256), --windows N (default 100).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { getHparams } from "../../schema/hparams.ts";
import { migrate, startWranglerDev, wrangler } from "../dev/wrangler-dev.ts";
import { dashboardSeedSql, type SeedMiner } from "./dashboard-seed.ts";
import { environment, table } from "./measure.ts";
import { lcg } from "./synthetic.ts";

const { values: args } = parseArgs({
  options: { runs: { type: "string" }, uids: { type: "string" }, windows: { type: "string" } },
});
const RUNS = Number(args.runs ?? 30);
const UIDS = Number(args.uids ?? 256);
const WINDOWS = Number(args.windows ?? 100);
const WARMUP = 3;
const hparams = getHparams("default");
const NETUID = 3;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** UIDS miners with random walks of final scores and ratings spread over the usual range. */
function miners(): SeedMiner[] {
  const next = lcg(7);
  return Array.from({ length: UIDS }, (_, uid) => {
    let score = next() * 0.5;
    const finalScores = Array.from({ length: WINDOWS }, () => {
      score = Math.max(0, Math.min(1, score + (next() - 0.5) * 0.1));
      return score;
    });
    const rated = uid % 16 !== 15; // a few never rated
    return {
      uid,
      hotkey: `5Bench${String(uid).padStart(4, "0")}${"x".repeat(38)}`,
      mu: rated ? 15 + next() * 20 : null,
      sigma: rated ? 1 + next() * 4 : null,
      finalScores,
    };
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "bench-dashboard-"));
  process.stderr.write(`bench:dashboard: local state in ${dir}\n`);
  await migrate(dir);
  const w = hparams.window;
  const statements = dashboardSeedSql({
    firstWindow: 1000,
    windows: WINDOWS,
    blocksPerWindow: w.blocks_per_window,
    blockTimeMs: w.block_time_ms,
    nowMs: Date.now(),
    netuid: NETUID,
    miners: miners(),
    heldoutBpb: Array.from({ length: WINDOWS }, (_, i) => 8 * Math.exp(-i / 60) + 1),
  });
  const seedPath = path.join(dir, "seed.sql");
  writeFileSync(seedPath, statements.join("\n"));
  const t0 = performance.now();
  await wrangler(["d1", "execute", "DB", "--file", seedPath], dir);
  process.stderr.write(
    `  seeded ${UIDS} uids × ${WINDOWS} windows in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  const dev = await startWranglerDev({
    persistTo: dir,
    vars: { HPARAMS_PROFILE: "default", NETUID: String(NETUID), CHAIN_URL: "http://127.0.0.1:9" },
  });
  const paths = ["/v1/health", "/", `/miners/${Math.floor(UIDS / 2)}`] as const;
  const samples = new Map<string, number[]>(paths.map((p) => [p, []]));
  const bytes = new Map<string, number>();
  try {
    for (let i = 0; i < RUNS + WARMUP; i++) {
      // Rotate which path goes first.
      for (let j = 0; j < paths.length; j++) {
        const p = paths[(i + j) % paths.length] as string;
        const start = performance.now();
        const res = await fetch(`${dev.url}${p}`);
        const body = await res.text();
        const ms = performance.now() - start;
        if (res.status !== 200) throw new Error(`GET ${p}: ${res.status} ${body.slice(0, 500)}`);
        bytes.set(p, body.length);
        if (i >= WARMUP) samples.get(p)?.push(ms);
      }
      if (i >= WARMUP) process.stderr.write(".");
    }
    process.stderr.write("\n");
  } finally {
    await dev.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const stats = paths.map((p) => {
    const sorted = [...(samples.get(p) ?? [])].sort((a, b) => a - b);
    return { p, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), kb: (bytes.get(p) ?? 0) / 1024 };
  });
  const base = stats[0] as (typeof stats)[number];
  console.log(
    `Dashboard benchmark (${environment()}, wrangler dev on loopback, ${UIDS} uids × ${WINDOWS} windows, ${RUNS} requests per path after ${WARMUP} warm-up)\n`,
  );
  console.log(
    table(
      ["request", "p50 ms", "p99 ms", "KiB", "p50 × health", "p99 × health"],
      stats.map((s) => [
        s.p === base.p ? `GET ${s.p} (baseline)` : `GET ${s.p}`,
        s.p50,
        s.p99,
        s.kb,
        s.p50 / base.p50,
        s.p99 / base.p99,
      ]),
    ),
  );
}

await main();
