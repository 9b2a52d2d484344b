/**
 * Evaluation of a llama-family model two ways, side by side (docs/BENCHMARKS.md): the host path
 * (θ fed to the plain loss graph as inputs on every run, the step applied into θ on the host and
 * undone from an undo log, as gpu-runner/evaluator.ts does today) and the θ-resident path
 * (gpu-runner/model/resident-session.ts: θ loaded into the session once, the step fed as a sparse
 * delta). One submission is Templar's: loss on its own sample before, and on its own and a random
 * sample after the step at eval_lr; each sample is 1 × 2048 tokens.
 *
 * The parent writes one random checkpoint (safetensors, F32) and one gradient file (top-64 of
 * every 64×64 chunk, from the codec) to a temporary folder; each path then runs in its own child
 * process, so that its peak RSS is its own, and reads both files as a runner would.
 *
 *   node scripts/bench/llama-eval.ts --model templar-150m [--runs N]   (also `npm run bench:eval -- --templar-150m`)
 *   node scripts/bench/llama-eval.ts --model templar-1b --forward      (one-off: host-path forwards only, no files)
 */
import { spawn } from "node:child_process";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { LlamaLossSession } from "../../gpu-runner/model/llama-loss-session.ts";
import { deltaCapacity, ResidentLlamaSession, residentDelta } from "../../gpu-runner/model/resident-session.ts";
import { SafetensorsCheckpoint } from "../../gpu-runner/model/safetensors.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { applyGradient, UndoLog } from "../../schema/codec/decode.ts";
import { compressParam, sampleParams, writeGradientFile } from "../../schema/codec/encode.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import { getHparams, type Hparams } from "../../schema/hparams.ts";
import { LLAMA_TINY, type LlamaConfig, llamaManifest, TEMPLAR_1B, TEMPLAR_150M } from "../../schema/model/llama.ts";
import { type ModelManifest, parameterSlots } from "../../schema/model/manifest.ts";
import { table } from "./measure.ts";
import { randomFlat } from "./synthetic.ts";

export const LLAMA_MODELS: Readonly<Record<string, LlamaConfig>> = {
  "llama-tiny": LLAMA_TINY,
  "templar-150m": TEMPLAR_150M,
  "templar-1b": TEMPLAR_1B,
};
const SEQ_LEN = 2048;
const EVAL_LR = 0.08; // outer_learning_rate 0.4 × eval_lr_factor 0.2
const HPARAMS: Hparams = getHparams("default"); // compression: top-64 of 64×64 chunks, no DCT
const IDENTITY = {
  netuid: 3,
  window: 1,
  uid: 1,
  hotkey: "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
  base_window: 1,
};

const log = (s: string) => process.stderr.write(s);
const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** Deterministic θ: 2-D weights uniform with std 0.02, norm gains 1. */
export function randomTheta(manifest: ModelManifest, seed = 1): Float32Array {
  const { slots, total } = parameterSlots(manifest);
  const theta = new Float32Array(total);
  slots.forEach(({ spec, offset, numel }, i) => {
    if (spec.shape.length === 1) theta.fill(1, offset, offset + numel);
    else theta.set(randomFlat(numel, seed * 1000 + i, 0.02 * Math.sqrt(12)), offset);
  });
  return theta;
}

/** Token ids of one sample: uniform over the vocabulary, an EOS every 512 tokens (document ends). */
function sampleIds(c: LlamaConfig, seed: number): number[] {
  const u = randomFlat(SEQ_LEN, seed, 1);
  return Array.from(u, (x, t) =>
    (t + 1) % 512 === 0 ? c.eos_token_id : 3 + Math.floor((x + 0.5) * (c.vocab_size - 3)),
  );
}

/** Writes θ as one F32 safetensors file under the manifest's names, tensor by tensor. */
async function writeCheckpoint(file: string, manifest: ModelManifest, theta: Float32Array): Promise<void> {
  const { slots } = parameterSlots(manifest);
  const header: Record<string, unknown> = {};
  for (const s of slots)
    header[s.spec.name] = { dtype: "F32", shape: s.spec.shape, data_offsets: [s.offset * 4, (s.offset + s.numel) * 4] };
  let json = new TextEncoder().encode(JSON.stringify(header));
  json = Uint8Array.from({ length: Math.ceil(json.length / 8) * 8 }, (_, i) => json[i] ?? 0x20);
  const handle = await open(file, "w");
  try {
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
    await handle.write(prefix, 0, 8, 0);
    await handle.write(json, 0, json.length, 8);
    for (const s of slots) {
      const bytes = new Uint8Array(theta.buffer, theta.byteOffset + s.offset * 4, s.numel * 4);
      await handle.write(bytes, 0, bytes.length, 8 + json.length + s.offset * 4);
    }
  } finally {
    await handle.close();
  }
}

/**
 * A gradient file as a miner writes it: each parameter's random pseudo-gradient through the codec
 * (k = 64 of every 64×64 chunk), large enough (±0.25, × eval_lr) to move the losses visibly.
 */
function gradientFile(manifest: ModelManifest, theta: Float32Array): Uint8Array {
  const layouts = gradientLayout(manifest, HPARAMS.compression);
  const params = layouts.map((l, i) => compressParam(randomFlat(l.numel, 500 + i, 0.5), l, HPARAMS.compression));
  return writeGradientFile(params, layouts, {
    ...IDENTITY,
    compression: HPARAMS.compression,
    param_sample: sampleParams(theta, layouts, HPARAMS.sync),
  });
}

/** What one path measured, sent by its child process as JSON. */
interface PathResult {
  readonly path: "host" | "resident";
  readonly loadMs: number;
  readonly forwardMs: number[];
  /** Per submission: everything (decode, forwards, apply or delta, restore) and the forwards alone. */
  readonly totalMs: number[];
  readonly forwardsMs: number[];
  readonly losses: number[];
  readonly peakRss: number;
}

/** One forward of a sample, on θ (host) or θ + delta (resident). */
type Forward = (ids: number[], stepped: boolean) => Promise<number>;

/** The host path or the resident path in this process; returns what it measured. */
async function runPath(which: "host" | "resident", c: LlamaConfig, dir: string, runs: number): Promise<PathResult> {
  const manifest = llamaManifest(c);
  const bytes = new Uint8Array(await readFile(path.join(dir, "gradient.safetensors")));
  const validation = { manifest, hparams: HPARAMS, expect: IDENTITY };
  const own = sampleIds(c, 21);
  const random = sampleIds(c, 22);
  const forwardMs: number[] = [];
  const timed = async (f: () => Promise<number>) => {
    const t0 = performance.now();
    const loss = await f();
    forwardMs.push(performance.now() - t0);
    log(`    ${which} forward ${forwardMs.length}: ${(forwardMs.at(-1) as number).toFixed(0)} ms\n`);
    return loss;
  };
  const t0 = performance.now();
  const checkpoint = await SafetensorsCheckpoint.open(path.join(dir, "theta.safetensors"));
  let forward: Forward;
  let step: (file: ReturnType<typeof readGradientFile>) => void;
  let restore: () => void = () => {};
  let release: () => Promise<void>;
  if (which === "host") {
    const { slots, total } = parameterSlots(manifest);
    const theta = new Float32Array(total);
    for (const s of slots) theta.set(await checkpoint.read(s.spec.name), s.offset);
    const session = await LlamaLossSession.create(c, 1, SEQ_LEN);
    const undo = new UndoLog();
    forward = async (ids) => (await session.losses(theta, Uint32Array.from(ids))).loss;
    step = (file) => applyGradient(theta, file.params, file.layouts, false, EVAL_LR, undo);
    restore = () => undo.restore(theta);
    release = () => session.release();
  } else {
    const session = await ResidentLlamaSession.create(c, {
      batch: 1,
      seqLen: SEQ_LEN,
      compression: HPARAMS.compression,
      theta: { checkpoint },
    });
    let delta: ReturnType<typeof residentDelta> | null = null;
    forward = async (ids, stepped) => (await session.losses(ids, stepped ? delta : null)).loss;
    step = (file) => {
      delta = residentDelta(file.params, file.layouts, false, EVAL_LR);
    };
    release = () => session.release();
  }
  await checkpoint.close();
  const loadMs = performance.now() - t0;
  log(`  ${which}: θ loaded and session open in ${(loadMs / 1000).toFixed(1)} s\n`);
  // The random sample's loss before any step: once per window, not per submission (the warm-up).
  const losses = [await timed(() => forward(random, false))];
  const totalMs: number[] = [];
  const forwardsMs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const s0 = performance.now();
    const file = readGradientFile(bytes, validation);
    const s1 = performance.now();
    losses.push(await timed(() => forward(own, false)));
    const s2 = performance.now();
    step(file);
    const s3 = performance.now();
    losses.push(await timed(() => forward(own, true)), await timed(() => forward(random, true)));
    const s4 = performance.now();
    restore();
    const s5 = performance.now();
    totalMs.push(s5 - s0);
    forwardsMs.push(s2 - s1 + (s4 - s3));
    log(
      `  ${which} submission ${r + 1}: ${((s5 - s0) / 1000).toFixed(1)} s, forwards ${((s2 - s1 + s4 - s3) / 1000).toFixed(1)} s\n`,
    );
  }
  await release();
  return { path: which, loadMs, forwardMs: forwardMs.slice(1), totalMs, forwardsMs, losses, peakRss: peakRss() };
}

/** Runs this file again as a child for one path and returns its JSON line. */
function child(which: "host" | "resident", model: string, dir: string, runs: number): Promise<PathResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [import.meta.filename, "--child", which, "--model", model, "--dir", dir, "--runs", String(runs)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    p.on("error", reject);
    p.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as PathResult) : reject(new Error(`${which}: exit ${code}`)),
    );
  });
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

/**
 * Both paths on `model` (random θ and a codec gradient written to a temporary folder first), one
 * child process each; returns the table's header and rows, host then resident then their ratio.
 */
export async function llamaEvalTable(
  model: string,
  runs: number,
): Promise<{ header: string[]; rows: (string | number)[][] }> {
  const c = LLAMA_MODELS[model];
  if (!c) throw new Error(`unknown model ${model} (${Object.keys(LLAMA_MODELS).join(", ")})`);
  const manifest = llamaManifest(c);
  const layouts = gradientLayout(manifest, HPARAMS.compression);
  const thetaBytes = parameterSlots(manifest).total * 4;
  const deltaPairs = layouts.reduce((n, l) => n + deltaCapacity(l), 0);
  const dir = await mkdtemp(path.join(tmpdir(), "bench-llama-"));
  try {
    log(
      `${model}: ${(thetaBytes / 4e6).toFixed(1)}M parameters (θ ${(thetaBytes / 1e9).toFixed(2)} GB), writing θ and a gradient file to ${dir}\n`,
    );
    const theta = randomTheta(manifest);
    await writeCheckpoint(path.join(dir, "theta.safetensors"), manifest, theta);
    const file = gradientFile(manifest, theta);
    await writeFile(path.join(dir, "gradient.safetensors"), file);
    log(`  gradient file ${(file.length / 1e6).toFixed(1)} MB, ${deltaPairs.toLocaleString("en-US")} delta pairs\n`);
    const host = await child("host", model, dir, runs);
    const resident = await child("resident", model, dir, runs);
    const agreement = Math.max(...host.losses.map((l, i) => Math.abs(l - (resident.losses[i] as number)) / l));
    log(
      `  losses host ${host.losses.map((l) => l.toFixed(5)).join(", ")}; largest relative difference ${agreement.toExponential(2)}\n`,
    );
    const row = (r: PathResult, fedBytes: number) => {
      const forward = median(r.forwardMs);
      const ratio = median(r.totalMs.map((t, i) => t / (r.forwardsMs[i] as number)));
      return { forward, ratio, peak: r.peakRss, load: r.loadMs, fed: fedBytes };
    };
    const h = row(host, thetaBytes);
    const s = row(resident, deltaPairs * 8);
    const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
    // Ratios near 1 need more than the table's three significant digits.
    const ratio = (x: number) => x.toFixed(3);
    return {
      header: [
        "path",
        "θ load s",
        "fed per forward",
        "ms per 2048-token forward",
        "submission ÷ forwards",
        "peak RSS",
        "peak − θ bytes",
      ],
      rows: [
        [
          "host apply/restore (θ as inputs)",
          h.load / 1000,
          gb(h.fed),
          h.forward,
          ratio(h.ratio),
          gb(h.peak),
          gb(h.peak - thetaBytes),
        ],
        [
          "θ-resident (delta as inputs)",
          s.load / 1000,
          gb(s.fed),
          s.forward,
          ratio(s.ratio),
          gb(s.peak),
          gb(s.peak - thetaBytes),
        ],
        [
          "resident ÷ host",
          s.load / h.load,
          s.fed / h.fed,
          ratio(s.forward / h.forward),
          ratio(s.ratio / h.ratio),
          ratio(s.peak / h.peak),
          ratio((s.peak - thetaBytes) / (h.peak - thetaBytes)),
        ],
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The one-off: host-path forwards of `model` on random θ held in JS (no files), with peak RSS. */
async function forwardOnly(model: string, runs: number): Promise<void> {
  const c = LLAMA_MODELS[model] as LlamaConfig;
  const manifest = llamaManifest(c);
  const { total } = parameterSlots(manifest);
  log(
    `${model}: ${(total / 1e6).toFixed(1)}M parameters (${((total * 4) / 1e9).toFixed(2)} GB fp32), 1 × ${SEQ_LEN} tokens\n`,
  );
  let t = performance.now();
  const theta = randomTheta(manifest);
  const session = await LlamaLossSession.create(c, 1, SEQ_LEN);
  log(`  θ and session ready in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  const ids = Uint32Array.from(sampleIds(c, 21));
  for (let r = 0; r < runs; r++) {
    t = performance.now();
    const { loss } = await session.losses(theta, ids);
    log(
      `  forward ${r + 1}: ${((performance.now() - t) / 1000).toFixed(1)} s, loss ${loss.toFixed(4)}, peak RSS ${(peakRss() / 1e9).toFixed(2)} GB\n`,
    );
  }
  await session.release();
}

// Run as a script (or as the parent's child), not when eval.ts imports the table.
if (process.argv[1] === import.meta.filename) {
  const { values: args } = parseArgs({
    options: {
      model: { type: "string", default: "templar-150m" },
      runs: { type: "string", default: "1" },
      forward: { type: "boolean", default: false },
      child: { type: "string" },
      dir: { type: "string" },
    },
  });
  const model = args.model as string;
  const runs = Number(args.runs);
  if (args.child === "host" || args.child === "resident") {
    const c = LLAMA_MODELS[model] as LlamaConfig;
    process.stdout.write(JSON.stringify(await runPath(args.child, c, args.dir as string, runs)));
  } else if (args.forward) {
    await forwardOnly(model, runs);
  } else {
    const { header, rows } = await llamaEvalTable(model, runs);
    console.log(table(header, rows));
  }
}
