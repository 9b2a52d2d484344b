// The training graph's gradients: float64 central finite differences on a small config agree
// with the backward graph, the float32 GradientSession lays them out in manifest order, its loss
// is the evaluator's loss, and a step against the gradient lowers the loss.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { byteModel } from "../../gpu-runner/model/family.ts";
import { GradientSession } from "../../gpu-runner/model/gradient-session.ts";
import { initialParameters } from "../../gpu-runner/model/init.ts";
import { LossSession } from "../../gpu-runner/model/loss-session.ts";
import { batchFeeds, openModelSession } from "../../gpu-runner/model/session-io.ts";
import { buildTrainingGraph, LOSS, transformerManifest } from "../../gpu-runner/model/transformer.ts";
import type { ByteModelHparams } from "../../schema/hparams.ts";
import { getHparams } from "../../schema/hparams.ts";
import { type ParameterSlot, parameterSlots } from "../../schema/model/manifest.ts";
import { graphProbe, l2, lcg } from "./support/finite-differences.ts";

const CORPUS = path.resolve(import.meta.dirname, "../../../shared/data/tinyshakespeare.txt");
const text = existsSync(CORPUS)
  ? new Uint8Array(readFileSync(CORPUS))
  : new Uint8Array(300_000).map((_, i) => 32 + ((i * 7919) % 90));

/** `batch` sequences of seq_len + 1 bytes of text, from spread-out offsets. */
function textBatch(batch: number, seqLen: number, stride = 10_007): Uint8Array {
  const out = new Uint8Array(batch * (seqLen + 1));
  for (let b = 0; b < batch; b++) out.set(text.subarray(b * stride, b * stride + seqLen + 1), b * (seqLen + 1));
  return out;
}

// Init std 0.2 rather than 0.02: at 0.02 the attention logits are ≈ 0 and the Wq/Wk gradients
// drown in finite-difference noise (docs/MODEL.md §5).
const SMALL: ByteModelHparams = {
  family: "byte",
  vocab_size: 256,
  d_model: 32,
  n_layers: 2,
  n_heads: 4,
  seq_len: 32,
  mlp_ratio: 4,
};
const SMALL_BATCH = 2;

describe("the float64 training graph against central finite differences (d=32, 2 layers, T=32, B=2)", () => {
  const manifest = transformerManifest(SMALL);
  const { slots, total } = parameterSlots(manifest);
  const tokens = textBatch(SMALL_BATCH, SMALL.seq_len);
  const theta = new Float64Array(total);
  let session: ort.InferenceSession;
  let gradient: Float64Array;

  const { evaluate, centralDifference: along } = graphProbe({
    session: () => session,
    data: batchFeeds(tokens, SMALL_BATCH, SMALL.seq_len),
    slots,
    total,
    loss: LOSS,
  });
  const centralDifference = (offset: number, u: Float64Array, h: number) => along(theta, offset, u, h);

  beforeAll(async () => {
    const base = initialParameters(manifest, SMALL.n_layers, 11);
    const next = lcg(5);
    for (const { spec, offset, numel } of slots) {
      for (let i = offset; i < offset + numel; i++) {
        // Matrices at std 0.2; norm gains around 1 but not all equal, so their gradients differ.
        theta[i] = spec.shape.length === 2 ? 10 * (base[i] as number) : 1 + 0.2 * (next() - 0.5);
      }
    }
    session = await openModelSession(buildTrainingGraph(SMALL, SMALL_BATCH, { dtype: "float64" }), "cpu");
    const { loss, grad } = await evaluate(theta, true);
    expect(Number.isFinite(loss)).toBe(true);
    gradient = grad as Float64Array;
  });

  /** Coordinates of a tensor worth checking: for the embedding, rows of bytes that occur in the batch. */
  function coordinates(slot: ParameterSlot, count: number, next: () => number): number[] {
    if (slot.spec.name !== "tok_emb") return Array.from({ length: count }, () => Math.floor(next() * slot.numel));
    const d = slot.spec.shape[1] as number;
    const inputs = Array.from(tokens).filter((_, i) => i % (SMALL.seq_len + 1) !== SMALL.seq_len);
    return Array.from({ length: count }, () => {
      const row = inputs[Math.floor(next() * inputs.length)] as number;
      return row * d + Math.floor(next() * d);
    });
  }

  it("matches per coordinate (h = 1e-5, 3 random coordinates per tensor)", async () => {
    const h = 1e-5;
    const next = lcg(17);
    let worst = 0;
    for (const slot of slots) {
      for (const c of coordinates(slot, 3, next)) {
        const at = slot.offset + c;
        const fd = await centralDifference(at, Float64Array.of(1), h);
        const exact = gradient[at] as number;
        // Relative to the tensor's gradient scale too: a coordinate can be tiny by chance.
        const scale = Math.max(
          Math.abs(exact),
          l2(gradient.subarray(slot.offset, slot.offset + slot.numel)) / Math.sqrt(slot.numel),
        );
        const err = Math.abs(fd - exact) / scale;
        expect(err, `${slot.spec.name}[${c}]: fd ${fd} vs ${exact}`).toBeLessThan(1e-5);
        worst = Math.max(worst, err);
      }
    }
    console.log(`worst per-coordinate relative error: ${worst.toExponential(2)}`);
  });

  it("matches one random ±1 directional derivative per tensor (h = 1e-6)", async () => {
    const h = 1e-6;
    const next = lcg(23);
    let worst = 0;
    for (const { spec, offset, numel } of slots) {
      const u = Float64Array.from({ length: numel }, () => (next() < 0.5 ? -1 : 1));
      const fd = await centralDifference(offset, u, h);
      let exact = 0;
      for (let i = 0; i < numel; i++) exact += (gradient[offset + i] as number) * (u[i] as number);
      const err = Math.abs(fd - exact) / Math.abs(exact);
      expect(err, `${spec.name}: fd ${fd} vs ${exact}`).toBeLessThan(1e-5);
      worst = Math.max(worst, err);
    }
    console.log(`worst directional relative error: ${worst.toExponential(2)}`);
  });

  it("is what the float32 GradientSession returns, in manifest order", async () => {
    const gs = await GradientSession.create(SMALL, SMALL_BATCH);
    try {
      const { loss, gradient: g32 } = await gs.lossAndGradient(Float32Array.from(theta), tokens);
      expect(Math.abs(loss - (await evaluate(theta)).loss)).toBeLessThan(1e-5);
      for (const { spec, offset, numel } of slots) {
        const exact = gradient.subarray(offset, offset + numel);
        const diff = exact.map((x, i) => x - (g32[offset + i] as number));
        expect(l2(diff) / l2(exact), spec.name).toBeLessThan(1e-4);
      }
    } finally {
      await gs.release();
    }
  });
});

describe("the float32 GradientSession on the local profile (initial parameters, real text)", () => {
  const model = byteModel(getHparams("local"), "this test");
  const batch = getHparams("local").training.batch_size;
  const manifest = transformerManifest(model);
  const { slots } = parameterSlots(manifest);
  const params = initialParameters(manifest, model.n_layers);
  const tokens = textBatch(batch, model.seq_len);
  let session: GradientSession;
  let result: { loss: number; gradient: Float32Array };

  beforeAll(async () => {
    session = await GradientSession.create(model, batch);
    result = await session.lossAndGradient(params, tokens);
    return () => session.release();
  });

  it("gives the evaluator's forward loss on the same weights and tokens", async () => {
    const evaluator = await LossSession.create(model, batch);
    try {
      const expected = await evaluator.loss(params, tokens);
      console.log(`training-graph loss ${result.loss}, evaluator loss ${expected}`);
      expect(Math.abs(result.loss - expected)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(result.loss - Math.log(256))).toBeLessThan(0.1);
    } finally {
      await evaluator.release();
    }
  });

  it("has a finite, nonzero gradient for every parameter, and a step against it lowers the loss", async () => {
    expect(result.gradient.length).toBe(params.length);
    for (const { spec, offset, numel } of slots) {
      const part = result.gradient.subarray(offset, offset + numel);
      expect(part.every(Number.isFinite), spec.name).toBe(true);
      expect(l2(part), spec.name).toBeGreaterThan(0);
    }
    const lr = 0.05 / l2(result.gradient); // a step of length 0.05 along −g
    const stepped = params.map((p, i) => p - lr * (result.gradient[i] as number));
    const after = await session.lossAndGradient(stepped, tokens);
    expect(after.loss).toBeLessThan(result.loss - 1e-3);
    // And the same step along +g raises it: the sign of the gradient is right.
    const against = params.map((p, i) => p + lr * (result.gradient[i] as number));
    expect((await session.lossAndGradient(against, tokens)).loss).toBeGreaterThan(result.loss + 1e-3);
  });

  it("refuses tokens and parameters of the wrong size", async () => {
    await expect(session.lossAndGradient(params, tokens.subarray(1))).rejects.toThrow(/tokens/);
    await expect(session.lossAndGradient(params.subarray(1), tokens)).rejects.toThrow(/parameters/);
  });
});
