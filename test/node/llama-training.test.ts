// The llama family's training graph: float64 central finite differences agree with its backward
// on every parameter (tied and untied heads, 4 heads on 2 KV heads, EOS targets ignored), its loss
// is the loss graph's, and the float32 LlamaGradientSession's gradients agree with torch autograd's
// (the fixtures of scripts/fixtures/llama-fixtures.py: float64 from the same float32 weights).
import type ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildLlamaLossGraph,
  buildLlamaTrainingGraph,
  LLAMA_LOSS,
  LLAMA_SAMPLE_LOSSES,
} from "../../gpu-runner/model/llama.ts";
import { LlamaGradientSession } from "../../gpu-runner/model/llama-gradient-session.ts";
import { llamaBatchFeeds, openModelSession, parameterFeeds } from "../../gpu-runner/model/session-io.ts";
import { llamaManifest } from "../../schema/model/llama.ts";
import { type ParameterSlot, parameterSlots } from "../../schema/model/manifest.ts";
import { graphProbe, l2, lcg } from "./support/finite-differences.ts";
import {
  type FixtureTensor,
  flatWeights,
  LLAMA_CASES,
  readLlamaFixture,
  readLlamaTensors,
  relativeToScale,
} from "./support/llama-fixtures.ts";

// float32 roundoff of the forward and backward, relative to each tensor's largest gradient.
const TORCH_TOLERANCE = 1e-4;
// The float64 graph differs from torch's float64 autograd by the float32 rounding of the stored
// gradients (6e-8) and of the RoPE tables: torch's float32 cos/sin are 1 ulp off the correctly
// rounded values ours hold at a few entries. Measured 1.2e-7 of each tensor's largest gradient.
const TORCH_TOLERANCE_FLOAT64 = 1e-6;
const FD_TOLERANCE = 1e-5;

describe.each(LLAMA_CASES)("the llama training graph (%s head)", (name) => {
  const fixture = readLlamaFixture(name);
  const { config, batch, seq_len: seqLen } = fixture;
  const ids = fixture.input_ids.flat();
  const manifest = llamaManifest(config);
  const { slots, total } = parameterSlots(manifest);
  let tensors: Map<string, FixtureTensor>;
  let weights: Float32Array;
  let theta: Float64Array;
  let session: ort.InferenceSession;
  let gradient: Float64Array;

  const { evaluate, centralDifference: along } = graphProbe({
    session: () => session,
    data: llamaBatchFeeds(ids, batch, seqLen, config.eos_token_id),
    slots,
    total,
    loss: LLAMA_LOSS,
  });
  const centralDifference = (offset: number, u: Float64Array, h: number) => along(theta, offset, u, h);

  beforeAll(async () => {
    tensors = await readLlamaTensors(name);
    weights = flatWeights(tensors, manifest);
    theta = Float64Array.from(weights);
    session = await openModelSession(buildLlamaTrainingGraph(config, batch, seqLen, { dtype: "float64" }), "cpu");
    const { loss, grad } = await evaluate(theta, true);
    expect(Number.isFinite(loss)).toBe(true);
    gradient = grad as Float64Array;
    return () => session.release();
  });

  /** torch's gradient of a parameter, and a check that it has the parameter's shape. */
  function expectedGradient(param: string): Float32Array {
    const stored = tensors.get(`expected.grad.${param}`) as FixtureTensor;
    expect(stored.shape, param).toEqual(tensors.get(param)?.shape);
    return stored.data;
  }

  /**
   * Coordinates of a tensor worth checking: anywhere, and for the embedding also in rows of ids
   * that are inputs (the only rows the lookup's scatter reaches; the others get only the tied
   * head's gradient, or none).
   */
  function coordinates(slot: ParameterSlot, next: () => number): number[] {
    const anywhere = Array.from({ length: 3 }, () => Math.floor(next() * slot.numel));
    if (slot.spec.name !== "model.embed_tokens.weight") return anywhere;
    const d = slot.spec.shape[1] as number;
    const inRows = Array.from({ length: 3 }, () => {
      const row = ids[Math.floor(next() * ids.length)] as number;
      return row * d + Math.floor(next() * d);
    });
    return [...anywhere, ...inRows];
  }

  it("matches central finite differences per coordinate (float64, h = 1e-5, every tensor)", async () => {
    const h = 1e-5;
    const next = lcg(17);
    let worst = 0;
    for (const slot of slots) {
      const scale = l2(gradient.subarray(slot.offset, slot.offset + slot.numel)) / Math.sqrt(slot.numel);
      expect(scale, slot.spec.name).toBeGreaterThan(0);
      for (const c of coordinates(slot, next)) {
        const at = slot.offset + c;
        const fd = await centralDifference(at, Float64Array.of(1), h);
        const exact = gradient[at] as number;
        // Relative to the tensor's gradient scale too: a coordinate can be tiny (or 0) by chance.
        const err = Math.abs(fd - exact) / Math.max(Math.abs(exact), scale);
        expect(err, `${slot.spec.name}[${c}]: fd ${fd} vs ${exact}`).toBeLessThan(FD_TOLERANCE);
        worst = Math.max(worst, err);
      }
    }
    console.log(`${name}: worst per-coordinate FD relative error ${worst.toExponential(2)}`);
  });

  it("matches one random ±1 directional derivative per tensor (float64, h = 1e-6)", async () => {
    const h = 1e-6;
    const next = lcg(23);
    let worst = 0;
    for (const { spec, offset, numel } of slots) {
      const u = Float64Array.from({ length: numel }, () => (next() < 0.5 ? -1 : 1));
      const fd = await centralDifference(offset, u, h);
      let exact = 0;
      for (let i = 0; i < numel; i++) exact += (gradient[offset + i] as number) * (u[i] as number);
      const err = Math.abs(fd - exact) / Math.abs(exact);
      expect(err, `${spec.name}: fd ${fd} vs ${exact}`).toBeLessThan(FD_TOLERANCE);
      worst = Math.max(worst, err);
    }
    console.log(`${name}: worst directional FD relative error ${worst.toExponential(2)}`);
  });

  it(`matches torch autograd's gradients (float64 graph within ${TORCH_TOLERANCE_FLOAT64} of each tensor's max)`, () => {
    let worst = 0;
    for (const { spec, offset, numel } of slots) {
      const err = relativeToScale(gradient.subarray(offset, offset + numel), expectedGradient(spec.name));
      expect(err, spec.name).toBeLessThan(TORCH_TOLERANCE_FLOAT64);
      worst = Math.max(worst, err);
    }
    console.log(`${name}: float64 graph vs torch, worst max|Δ|/max|grad| ${worst.toExponential(2)}`);
  });

  it(`gives through LlamaGradientSession (float32) the loss graph's loss and torch's gradients within ${TORCH_TOLERANCE}, and refuses wrong sizes`, async () => {
    const trainer = await LlamaGradientSession.create(config, batch, seqLen);
    const evaluator = await openModelSession(buildLlamaLossGraph(config, batch, seqLen), "cpu");
    try {
      const { loss, gradient: g32 } = await trainer.lossAndGradient(weights, Uint32Array.from(ids));
      const out = await evaluator.run({
        ...llamaBatchFeeds(ids, batch, seqLen, config.eos_token_id),
        ...parameterFeeds(slots, weights),
      });
      const expectedLoss = (out[LLAMA_LOSS] as ort.Tensor).data[0] as number;
      const perSample = Array.from((out[LLAMA_SAMPLE_LOSSES] as ort.Tensor).data as Float32Array);
      console.log(`${name}: training-graph loss ${loss}, loss-graph loss ${expectedLoss}`);
      // The same forward nodes on the same inputs: the same float32 loss.
      expect(loss).toBe(expectedLoss);
      expect(Math.abs(loss - perSample.reduce((s, l) => s + l, 0) / batch)).toBeLessThan(1e-6 * loss);

      expect(g32.length).toBe(total);
      let worst = 0;
      let worstName = "";
      for (const { spec, offset, numel } of slots) {
        const err = relativeToScale(g32.subarray(offset, offset + numel), expectedGradient(spec.name));
        expect(err, spec.name).toBeLessThan(TORCH_TOLERANCE);
        if (err > worst) [worst, worstName] = [err, spec.name];
      }
      console.log(`${name}: float32 session vs torch, worst max|Δ|/max|grad| ${worst.toExponential(2)} (${worstName})`);

      await expect(trainer.lossAndGradient(weights, Uint32Array.from(ids).subarray(1))).rejects.toThrow(/ids/);
      await expect(trainer.lossAndGradient(weights.subarray(1), Uint32Array.from(ids))).rejects.toThrow(/parameters/);
    } finally {
      await trainer.release();
      await evaluator.release();
    }
  });
});
