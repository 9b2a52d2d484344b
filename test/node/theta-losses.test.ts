// The evaluator's two ways of measuring losses around θ (gpu-runner/theta-losses.ts) agree: on
// llama-tiny, θ-resident (θ loaded once, steps as sparse deltas in the graph) against the host
// path (θ fed every run, steps added and undone on the host), for a miner's gradient, for the
// window's reference step (the peers' aggregate: a delta of its own size) and through
// measureGradient; and the host's θ is the same bit for bit afterwards.
import { describe, expect, it } from "vitest";
import { measureGradient, referenceStep } from "../../gpu-runner/evaluator.ts";
import { openEvalSession } from "../../gpu-runner/model/family-sessions.ts";
import { initialParameters } from "../../gpu-runner/model/init.ts";
import { HostThetaLosses, ResidentThetaLosses, type Step } from "../../gpu-runner/theta-losses.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { compressGradient, encodeGradient } from "../../schema/codec/encode.ts";
import { getHparams } from "../../schema/hparams.ts";
import { LLAMA_TINY, llamaManifest } from "../../schema/model/llama.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";

const hparams = getHparams("llama-tiny");
const manifest = llamaManifest(LLAMA_TINY);
const layouts = gradientLayout(manifest, hparams.compression);
const total = parameterSlots(manifest).total;
const SEQ = hparams.model.seq_len;
const EVAL_LR = 0.2;

function uniform(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296 - 0.5) * scale;
  });
}

/** `n` samples of ids below the vocabulary, an EOS in each. */
function samples(n: number, seed: number): Uint32Array {
  const u = uniform(n * SEQ, seed, 1);
  const ids = Uint32Array.from(u, (x) => 3 + Math.floor((x + 0.5) * (LLAMA_TINY.vocab_size - 3)));
  for (let b = 0; b < n; b++) ids[b * SEQ + 9] = LLAMA_TINY.eos_token_id;
  return ids;
}

function worst(a: readonly number[], b: readonly number[]): number {
  return Math.max(...a.map((x, i) => Math.abs(x - (b[i] as number)) / Math.abs(b[i] as number)));
}

describe("θ-resident and host losses around θ", () => {
  it("agree at θ, under a miner's gradient and under the reference step; the host's θ is unchanged", async () => {
    const theta = initialParameters(manifest, LLAMA_TINY.num_hidden_layers, 3);
    const before = Float32Array.from(theta);
    const host = new HostThetaLosses(await openEvalSession(hparams, 16), theta);
    const resident = await ResidentThetaLosses.create(hparams, Float32Array.from(theta));
    try {
      const own = samples(16, 1);
      const gradients = [5, 6, 7].map((seed) =>
        compressGradient(uniform(total, seed, 2), layouts, hparams.compression),
      );
      const gradient: Step = { kind: "gradient", params: gradients[0] ?? [], layouts, useDct: false, lr: EVAL_LR };
      const reference = referenceStep(gradients, layouts, false, EVAL_LR) as Step;

      const [h0, r0] = [await host.losses(own), await resident.losses(own)];
      expect(worst(r0.perSample, h0.perSample)).toBeLessThan(1e-5);
      for (const step of [gradient, reference]) {
        const h = (await host.withStep(step, (at) => at(own))).result;
        const r = (await resident.withStep(step, (at) => at(own))).result;
        expect(worst(r.perSample, h.perSample)).toBeLessThan(1e-5);
        // The step moved the losses by far more than the paths differ.
        expect(worst(h.perSample, h0.perSample)).toBeGreaterThan(1e-3);
      }
      expect(Buffer.from(theta.buffer).equals(Buffer.from(before.buffer))).toBe(true);
      const again = await resident.losses(own);
      expect(again.perSample).toEqual(r0.perSample);
    } finally {
      await host.release();
      await resident.release();
    }
  });

  it("give the same evaluation figures through measureGradient", async () => {
    const theta = initialParameters(manifest, LLAMA_TINY.num_hidden_layers, 4);
    const session = await openEvalSession(hparams, 16);
    const host = new HostThetaLosses(session, theta);
    const resident = await ResidentThetaLosses.create(hparams, Float32Array.from(theta));
    try {
      const identity = { netuid: 2, window: 7, uid: 3, hotkey: "5".padEnd(48, "F"), base_window: 7 };
      const { file } = encodeGradient({
        identity,
        gradient: uniform(total, 9, 1e-2),
        parameters: theta,
        layouts,
        compression: hparams.compression,
        sync: hparams.sync,
      });
      const own = samples(16, 2);
      const random = samples(16, 3);
      const figures = [];
      for (const at of [host, resident]) {
        figures.push(
          await measureGradient({
            theta: at,
            bytes: file,
            validation: { manifest, hparams, expect: identity },
            evalLr: EVAL_LR,
            own,
            random,
            beforeRandom: await at.losses(random),
          }),
        );
      }
      const [h, r] = figures as [Record<string, number>, Record<string, number>];
      expect(h.error).toBeUndefined();
      for (const key of ["loss_before_own", "loss_after_own", "loss_before_random", "loss_after_random"])
        expect(Math.abs((r[key] as number) - (h[key] as number)) / (h[key] as number), key).toBeLessThan(1e-5);
      expect(r.restore_ms).toBe(0);
    } finally {
      await session.release();
      await resident.release();
    }
  });
});
