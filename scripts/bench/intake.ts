/**
 * `npm run bench:intake`: the cost of the intake's checks, measured against `wrangler dev` on
 * loopback, and the time copy detection takes.
 *
 * 1. Upload latency (p50/p99) and throughput for ~1 MiB and ~64 MiB gradients through the full
 *    intake (signature, registration, replay and window checks, SHA-256 while streaming into R2,
 *    D1 record, queue), against a plain R2 put of the same bytes through the same Worker
 *    (`/v1/bench/plain-put`), requests alternating so both see the same background work.
 * 2. Copy detection (findCopies, the pairwise part) for 64 and 256 submissions of the default
 *    model's fingerprint shape.
 *
 * Options: --runs N (uploads per size and path, default 20), --quick (small sizes, few runs).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { encodeAddress } from "@polkadot/util-crypto";
import { getPublicKey, secretFromSeed, sign } from "@scure/sr25519";
import { modelManifest } from "../../gpu-runner/model/family.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { encodeGradient } from "../../schema/codec/encode.ts";
import { type Fingerprint, findCopies } from "../../schema/copies/find-copies.ts";
import { fingerprintSample } from "../../schema/copies/fingerprint-sample.ts";
import { getHparams } from "../../schema/hparams.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { signedMessage } from "../../schema/upload/upload-claim.ts";
import { migrate, startWranglerDev, wrangler } from "../dev/wrangler-dev.ts";
import { environment, format, table, time } from "./measure.ts";
import { lcg } from "./synthetic.ts";

const { values: args } = parseArgs({
  options: { runs: { type: "string" }, quick: { type: "boolean", default: false } },
});
const QUICK = args.quick;
const RUNS = Number(args.runs ?? (QUICK ? 4 : 20));
const hparams = getHparams("default");
const NETUID = 3; // wrangler.toml's production netuid, with the default profile
const MiB = 1024 * 1024;
/** Pause after each pair of uploads, for the background validation of the intake upload. */
const SETTLE_MS = QUICK ? 500 : 1500;

/** A model of 1-D parameters (k = chunk: 112 bytes per 64 values), sized to give a file of about `bytes`. */
function manifestOfSize(bytes: number): ModelManifest {
  const perParam = (262_144 / 64) * 112 + 20;
  const count = Math.max(1, Math.floor((bytes - 4096) / (perParam + 80)));
  return {
    model: `bench-${count}`,
    parameters: Array.from({ length: count }, (_, i) => ({ name: `p${i}`, shape: [262_144] })),
  };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function main(): Promise<void> {
  const secret = secretFromSeed(sha256(new TextEncoder().encode("bench-miner")));
  const hotkey = encodeAddress(getPublicKey(secret), 42);
  const sizes = QUICK ? [256 * 1024, 4 * MiB] : [1 * MiB, 64 * MiB];
  // Local R2 and D1 live on tmpfs when there is one: both paths then measure the Worker, not the disk.
  const dir = mkdtempSync(path.join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "bench-intake-"));
  process.stderr.write(`bench:intake: local state in ${dir}\n`);
  await migrate(dir);

  // Seed what the cron would have recorded: the miner registered, put windows open for an hour.
  const now = Date.now();
  const windows = sizes.flatMap((_, s) => Array.from({ length: RUNS + 2 }, (_, i) => 1000 * (s + 1) + i));
  const seed = [
    `INSERT INTO neurons VALUES (1, '${hotkey}', '${hotkey}', '0', 0, 1, 1, ${now});`,
    `INSERT INTO chain_head VALUES (1, ${1000 * hparams.window.blocks_per_window}, '0x00', ${now}, ${now});`,
    ...windows.map(
      (w) =>
        `INSERT INTO windows (window, start_block, end_block, put_opens_at_ms, put_closes_at_ms, state, updated_at_ms) VALUES (${w}, 0, 0, ${now - 1000}, ${now + 3_600_000}, 'put_open', ${now});`,
    ),
  ].join("\n");
  const seedPath = path.join(dir, "seed.sql");
  writeFileSync(seedPath, seed);
  await wrangler(["d1", "execute", "DB", "--file", seedPath], dir);

  const files = sizes.map((size) => {
    const manifest = manifestOfSize(size);
    const layouts = gradientLayout(manifest, hparams.compression);
    const n = layouts.reduce((a, l) => a + l.numel, 0);
    const gradient = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e-3);
    const identity = { netuid: NETUID, window: 1000, uid: 1, hotkey, base_window: 1000 };
    const { file } = encodeGradient({
      identity,
      gradient,
      parameters: gradient,
      layouts,
      compression: hparams.compression,
      sync: hparams.sync,
    });
    return { manifest, file, sha: bytesToHex(sha256(file)) };
  });
  // The consumer validates each upload in the background; with the manifest of the first size
  // published, every other upload fails its header check at once (cheap), the first validates.
  const manifestPath = path.join(dir, "manifest.json");
  writeFileSync(manifestPath, JSON.stringify(files[0]?.manifest));
  await wrangler(["r2", "object", "put", "templar-edge-artifacts/model/manifest.json", "--file", manifestPath], dir);

  const dev = await startWranglerDev({
    persistTo: dir,
    vars: { HPARAMS_PROFILE: "default", NETUID: String(NETUID), BENCHMARK_ROUTES: "on" },
  });
  const rows: (string | number)[][] = [];
  try {
    for (const [s, { file, sha }] of files.entries()) {
      const label = `${(file.length / MiB).toFixed(2)} MiB`;
      const intake: number[] = [];
      const plain: number[] = [];
      for (let i = 0; i < RUNS + 2; i++) {
        const window = 1000 * (s + 1) + i;
        const signature = `0x${bytesToHex(sign(secret, signedMessage({ netuid: NETUID, window, uid: 1, sha256: sha, size: file.length })))}`;
        const timed = async (send: () => Promise<Response>, want: number): Promise<number> => {
          const t0 = performance.now();
          const res = await send();
          const text = await res.text();
          const ms = performance.now() - t0;
          if (res.status !== want) throw new Error(`upload ${i} of ${label}: ${res.status} ${text}`);
          return ms;
        };
        const putPlain = () =>
          timed(
            () =>
              fetch(`${dev.url}/v1/bench/plain-put/${s}-${i}`, {
                method: "PUT",
                body: file,
                headers: { "Content-Length": String(file.length) },
              }),
            201,
          );
        const putIntake = () =>
          timed(
            () =>
              fetch(`${dev.url}/v1/gradients/${window}/1`, {
                method: "PUT",
                body: file,
                headers: {
                  "X-Templar-Hotkey": hotkey,
                  "X-Templar-Sha256": sha,
                  "X-Templar-Signature": signature,
                  "Content-Length": String(file.length),
                },
              }),
            202,
          );
        // Alternate which path goes first, and let the validation each intake upload queues (it
        // runs in this same local workerd process, unlike on Cloudflare) finish before the next pair.
        let plainMs: number;
        let intakeMs: number;
        if (i % 2 === 0) {
          plainMs = await putPlain();
          intakeMs = await putIntake();
        } else {
          intakeMs = await putIntake();
          plainMs = await putPlain();
        }
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        if (i >= 2) {
          plain.push(plainMs);
          intake.push(intakeMs);
        }
        process.stderr.write(
          `  ${label} ${i + 1}/${RUNS + 2}: plain ${plainMs.toFixed(1)} ms, intake ${intakeMs.toFixed(1)} ms\n`,
        );
      }
      plain.sort((a, b) => a - b);
      intake.sort((a, b) => a - b);
      const mbps = (ms: number) => file.length / MiB / (ms / 1000);
      rows.push(
        [
          label,
          "plain R2 put (baseline)",
          quantile(plain, 0.5),
          quantile(plain, 0.99),
          mbps(quantile(plain, 0.5)),
          1,
          1,
        ],
        [
          label,
          "intake (all checks)",
          quantile(intake, 0.5),
          quantile(intake, 0.99),
          mbps(quantile(intake, 0.5)),
          quantile(intake, 0.5) / quantile(plain, 0.5),
          quantile(intake, 0.99) / quantile(plain, 0.99),
        ],
      );
    }
  } finally {
    await dev.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  // Copy detection on the default model's fingerprint shape.
  const layouts = gradientLayout(modelManifest(hparams.model), hparams.compression);
  const sample = fingerprintSample(`0x${"5e".repeat(32)}`, layouts, hparams.copy);
  const copyRows: (string | number)[][] = [];
  for (const n of [64, 256]) {
    const subs = syntheticWindow(n, sample, layouts);
    let flags = 0;
    const t = time(
      `findCopies, ${n} submissions`,
      () => {
        flags = findCopies(subs, [], hparams.copy).length;
      },
      QUICK ? 2 : 5,
    );
    copyRows.push([n, (n * (n - 1)) / 2, t.ms, flags]);
  }

  console.log(
    `Intake benchmark (${environment()}, wrangler dev on loopback, ${RUNS} uploads per size and path${QUICK ? ", --quick" : ""})\n`,
  );
  console.log(
    table(
      ["file", "path", "p50 ms", "p99 ms", "MiB/s at p50", "p50 × plain", "p99 × plain"],
      rows.map((r) => r.map((v) => (typeof v === "number" ? format(v) : v))),
    ),
  );
  console.log(
    `\nCopy detection, ${hparams.copy.fingerprint_chunks} sampled chunks of k = ${hparams.compression.topk_compression} per submission (default model)\n`,
  );
  console.log(table(["submissions", "pairs", "ms (median)", "pairs flagged"], copyRows));
}

/**
 * n submissions' fingerprints: each chunk's indices drawn from a shared pool of 256 "likely"
 * coordinates (honest gradients agree on where the large values are, so overlaps are real but
 * below the threshold), plus one near copy and one exact copy so flags are exercised.
 */
function syntheticWindow(n: number, sample: Map<string, number[]>, layouts: ReturnType<typeof gradientLayout>) {
  const next = lcg(12345);
  const prints: Fingerprint[] = Array.from({ length: n }, () => {
    const fp: Record<string, { k: number; chunks: Record<number, number[]> }> = {};
    for (const [param, chunks] of sample) {
      const layout = layouts.find((l) => l.name === param) as (typeof layouts)[number];
      fp[param] = { k: layout.k, chunks: {} };
      for (const c of chunks) {
        const set = new Set<number>();
        while (set.size < layout.k) set.add(Math.floor(next() * Math.min(layout.totalk, 256)));
        fp[param].chunks[c] = [...set];
      }
    }
    return fp;
  });
  prints[1] = prints[0] as Fingerprint;
  return prints.map((fingerprint, i) => ({
    submissionId: i + 1,
    uid: i + 1,
    window: 1,
    receivedAtMs: 1000 + i,
    tensorDigest: i === 2 ? "d0" : `d${i}`,
    fingerprint,
  }));
}

await main();
