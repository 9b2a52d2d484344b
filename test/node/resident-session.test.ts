// θ-resident evaluation (gpu-runner/model/resident-session.ts) against the plain llama loss graph:
// a real compressed gradient from the codec, applied at eval_lr inside the graph, must give the
// losses the plain graph gives on θ + δ applied on the host by the codec's applyGradient; a run
// without a delta must give the plain graph's losses on θ, and leave θ in the session untouched.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { initialParameters } from "../../gpu-runner/model/init.ts";
import { LlamaLossSession } from "../../gpu-runner/model/llama-loss-session.ts";
import {
  deltaCapacity,
  deltaInputNames,
  ResidentLlamaSession,
  residentDelta,
  type ThetaSource,
} from "../../gpu-runner/model/resident-session.ts";
import { SafetensorsCheckpoint } from "../../gpu-runner/model/safetensors.ts";
import { gradientLayout, paramLayout } from "../../schema/codec/chunking.ts";
import { applyGradient, decompressParam } from "../../schema/codec/decode.ts";
import { compressGradient, compressParam } from "../../schema/codec/encode.ts";
import { pack12, unpack12 } from "../../schema/codec/pack12.ts";
import { type CompressionHparams, getHparams } from "../../schema/hparams.ts";
import { LLAMA_TINY, type LlamaConfig, llamaManifest, TEMPLAR_72B } from "../../schema/model/llama.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures/llama");
const COMPRESSION = getHparams("default").compression;
const EVAL_LR = 0.08; // outer_learning_rate 0.4 × eval_lr_factor 0.2, as Templar applies a gradient
const TOLERANCE = 1e-5;

/** Deterministic values uniform in [−scale/2, scale/2). */
function uniform(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296 - 0.5) * scale;
  });
}

/** Token ids in [3, vocab) with an EOS inside each sample (an ignored target). */
function tokenIds(config: LlamaConfig, batch: number, seqLen: number): number[] {
  const ids = Array.from(uniform(batch * seqLen, 11, 1), (u) => 3 + Math.floor((u + 0.5) * (config.vocab_size - 3)));
  for (let b = 0; b < batch; b++) ids[b * seqLen + 5] = config.eos_token_id;
  return ids;
}

function relative(a: readonly number[], b: readonly number[]): number {
  return Math.max(...a.map((x, i) => Math.abs(x - (b[i] as number)) / Math.abs(b[i] as number)));
}

/**
 * Runs the resident session and the plain graph on the same θ and gradient: before (no delta),
 * after (the gradient at eval_lr), before again.
 */
async function compare(
  config: LlamaConfig,
  batch: number,
  seqLen: number,
  compression: CompressionHparams,
  theta: Float32Array,
  source: ThetaSource,
) {
  const manifest = llamaManifest(config);
  const layouts = gradientLayout(manifest, compression);
  const gradient = compressGradient(uniform(theta.length, 7, 1), layouts, compression);
  const ids = tokenIds(config, batch, seqLen);

  // The host path: the plain loss graph with θ fed as inputs, the step applied by the codec.
  const plain = await LlamaLossSession.create(config, batch, seqLen);
  const stepped = Float32Array.from(theta);
  applyGradient(stepped, gradient, layouts, compression.use_dct, EVAL_LR);
  const plainBefore = await plain.losses(theta, Uint32Array.from(ids));
  const plainAfter = await plain.losses(stepped, Uint32Array.from(ids));
  await plain.release();

  const resident = await ResidentLlamaSession.create(config, { batch, seqLen, compression, theta: source });
  try {
    expect(resident.inputNames.some((n) => manifest.parameters.some((p) => p.name === n))).toBe(false);
    const before = await resident.losses(ids, null);
    const after = await resident.losses(ids, residentDelta(gradient, layouts, compression.use_dct, EVAL_LR));
    const beforeAgain = await resident.losses(ids, null);
    return { plainBefore, plainAfter, before, after, beforeAgain };
  } finally {
    await resident.release();
  }
}

function expectAgreement(r: Awaited<ReturnType<typeof compare>>): void {
  const errors = {
    before: relative(r.before.perSample, r.plainBefore.perSample),
    after: relative(r.after.perSample, r.plainAfter.perSample),
  };
  console.log(
    `resident vs plain, per-sample loss rel: before ${errors.before.toExponential(2)}, after ${errors.after.toExponential(2)}`,
  );
  expect(errors.before).toBeLessThan(TOLERANCE);
  expect(errors.after).toBeLessThan(TOLERANCE);
  // The step moved the losses far more than the tolerance, so a delta that was not applied fails.
  expect(relative(r.plainAfter.perSample, r.plainBefore.perSample)).toBeGreaterThan(100 * TOLERANCE);
  // θ in the session is unchanged by a delta run: before again is the same, bit for bit.
  expect(r.beforeAgain).toEqual(r.before);
}

describe("ResidentLlamaSession", () => {
  it("llama-tiny, θ from a Float32Array, k = 64 of every 64×64 chunk: losses equal the plain graph's on θ and θ + δ", async () => {
    const manifest = llamaManifest(LLAMA_TINY);
    const theta = initialParameters(manifest, LLAMA_TINY.num_hidden_layers);
    const r = await compare(LLAMA_TINY, 2, 32, COMPRESSION, theta, { params: theta });
    expectAgreement(r);
  });

  it.each(["tied", "untied"])(
    "the torch fixture's %s checkpoint, θ read by onnxruntime from the safetensors file: the same agreement",
    async (name) => {
      const checkpoint = await SafetensorsCheckpoint.open(path.join(FIXTURES, `${name}.safetensors`));
      try {
        const { config } = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), "utf8")) as {
          config: LlamaConfig;
        };
        const { slots, total } = parameterSlots(llamaManifest(config));
        const theta = new Float32Array(total);
        for (const s of slots) theta.set(await checkpoint.read(s.spec.name), s.offset);
        // Chunks of 8×8 with k = 8, so that the fixture's small matrices get a sparse delta too.
        const compression = { ...COMPRESSION, target_chunk: 8, topk_compression: 8 };
        expectAgreement(await compare(config, 2, 16, compression, theta, { checkpoint }));
      } finally {
        await checkpoint.close();
      }
    },
  );
});

/** θ rounded to bfloat16 as torch rounds (nearest even), as one BF16 safetensors file's bytes. */
function bf16Checkpoint(config: LlamaConfig, theta: Float32Array): Uint8Array {
  const { slots, total } = parameterSlots(llamaManifest(config));
  const header: Record<string, unknown> = {};
  for (const s of slots)
    header[s.spec.name] = {
      dtype: "BF16",
      shape: s.spec.shape,
      data_offsets: [s.offset * 2, (s.offset + s.numel) * 2],
    };
  const json = new TextEncoder().encode(
    JSON.stringify(header).padEnd(8 * Math.ceil(JSON.stringify(header).length / 8)),
  );
  const out = new Uint8Array(8 + json.length + total * 2);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const bits = new Uint32Array(theta.buffer, theta.byteOffset, total);
  const half = new Uint16Array(out.buffer, 8 + json.length, total);
  for (let i = 0; i < total; i++) half[i] = ((bits[i] as number) + 0x7fff + (((bits[i] as number) >>> 16) & 1)) >>> 16;
  return out;
}

describe("ResidentLlamaSession, bfloat16 checkpoint", () => {
  it("Casts BF16 initializers to float32 in the graph: the same agreement as the widened weights fed as inputs", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "resident-bf16-"));
    try {
      const file = path.join(dir, "model.safetensors");
      const theta = initialParameters(llamaManifest(LLAMA_TINY), LLAMA_TINY.num_hidden_layers);
      await writeFile(file, bf16Checkpoint(LLAMA_TINY, theta));
      const checkpoint = await SafetensorsCheckpoint.open(file);
      try {
        // What the plain graph gets: the bf16 values widened exactly (the reader's u16 << 16).
        const { slots } = parameterSlots(llamaManifest(LLAMA_TINY));
        const widened = new Float32Array(theta.length);
        for (const s of slots) widened.set(await checkpoint.read(s.spec.name), s.offset);
        expect(widened).not.toEqual(theta);
        expectAgreement(await compare(LLAMA_TINY, 2, 32, COMPRESSION, widened, { checkpoint }));
      } finally {
        await checkpoint.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("ResidentLlamaSession limits", () => {
  it("refuses Covenant-72B: its embedding and head have 2^31 elements, past int32 flat indices", async () => {
    await expect(
      ResidentLlamaSession.create(TEMPLAR_72B, {
        batch: 1,
        seqLen: 8,
        compression: COMPRESSION,
        theta: { params: new Float32Array(1) },
      }),
    ).rejects.toThrow(/model\.embed_tokens\.weight has 2147483648 elements/);
  });
});

describe("residentDelta", () => {
  it("feeds −eval_lr × the codec's scatter-mean, each index once, padded with (0, 0)", () => {
    const layout = paramLayout({ name: "w", shape: [128, 64] }, COMPRESSION);
    // Version 1 codes indices in any order, so a repeated one can be written (v2 cannot hold one).
    const param = compressParam(uniform(128 * 64, 3, 1), layout, COMPRESSION, 1);
    // A repeated index (as aggregation produces) is averaged, as the host apply does.
    const idx = unpack12(param.idxs, layout.chunks * layout.k);
    idx[1] = idx[0] as number;
    const repeated = { ...param, idxs: pack12(idx) };
    const delta = residentDelta([repeated], [layout], false, EVAL_LR);
    const indices = delta.indices[0] as Int32Array;
    const values = delta.values[0] as Float32Array;
    expect(indices.length).toBe(deltaCapacity(layout));
    expect(deltaInputNames("w")).toEqual({ indices: "delta_indices.w", values: "delta_values.w" });

    const dense = decompressParam(repeated, layout, false);
    const scattered = new Float64Array(layout.numel);
    for (let i = 0; i < indices.length; i++) scattered[indices[i] as number] += values[i] as number;
    for (let i = 0; i < layout.numel; i++) expect(scattered[i]).toBeCloseTo(-EVAL_LR * (dense[i] as number), 7);
    // 2 chunks × 64 pairs, one of them merged: one slot of padding at the end.
    const used = layout.chunks * layout.k - 1;
    expect(new Set(indices.subarray(0, used)).size).toBe(used);
    expect([indices[used], values[used]]).toEqual([0, 0]);
  });

  it("refuses a DCT-coded gradient (its chunks are dense)", () => {
    const layout = paramLayout({ name: "w", shape: [64, 64] }, COMPRESSION);
    const param = compressParam(uniform(64 * 64, 5, 1), layout, COMPRESSION);
    expect(() => residentDelta([param], [layout], true, EVAL_LR)).toThrow(/use_dct/);
  });
});
