// The model as built: it loads in onnxruntime-node, starts near ln 256, is deterministic, and a
// gradient applied through the codec moves the loss exactly as the same delta applied directly.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { byteModel } from "../../gpu-runner/model/family.ts";
import { initialParameters } from "../../gpu-runner/model/init.ts";
import { LossSession } from "../../gpu-runner/model/loss-session.ts";
import { transformerManifest } from "../../gpu-runner/model/transformer.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { applyGradient, decompressParam } from "../../schema/codec/decode.ts";
import { compressGradient } from "../../schema/codec/encode.ts";
import { gatherSamples } from "../../schema/data/dataset.ts";
import { getHparams } from "../../schema/hparams.ts";
import { readCheckpoint, writeCheckpoint } from "../../schema/model/checkpoint.ts";
import { INITIAL_CHECKPOINT_KEY, LOSS_GRAPH_KEY } from "../../schema/model/keys.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";
import { dataArtifacts } from "../../scripts/artifacts/data-artifacts.ts";
import { modelArtifacts } from "../../scripts/artifacts/model-artifacts.ts";

const hparams = getHparams("local");
const manifest = transformerManifest(byteModel(hparams, "this test"));
const { total, slots } = parameterSlots(manifest);
const CORPUS = path.resolve(import.meta.dirname, "../../../shared/data/tinyshakespeare.txt");
const corpus = existsSync(CORPUS)
  ? new Uint8Array(readFileSync(CORPUS))
  : new Uint8Array(300_000).map((_, i) => 32 + ((i * 7919) % 90));
const data = dataArtifacts(corpus, "corpus.txt", hparams);
const B = hparams.evaluation.own_samples;

/** Samples 0…B−1 of the training split. */
function firstSamples(): Uint8Array {
  const m = JSON.parse(new TextDecoder().decode(data.get("data/manifest.json")));
  const shards = m.splits.train.shards.map((s: { key: string }) => data.get(s.key) as Uint8Array);
  return gatherSamples(
    m.splits.train,
    m.seq_len,
    Array.from({ length: B }, (_, i) => i * 7),
    (i) => shards[i],
  );
}

describe("the model", () => {
  it("has about 0.7M parameters in the local profile, and builds the same bytes every time", () => {
    expect(total).toBeGreaterThan(500_000);
    expect(total).toBeLessThan(1_000_000);
    const a = modelArtifacts(hparams);
    const b = modelArtifacts(hparams);
    for (const [key, bytes] of a)
      expect(Buffer.compare(Buffer.from(bytes), Buffer.from(b.get(key) as Uint8Array)), key).toBe(0);
  });

  it("loads in onnxruntime-node with every parameter as an input, and starts near ln 256", async () => {
    const artifacts = modelArtifacts(hparams);
    const session = await ort.InferenceSession.create(artifacts.get(LOSS_GRAPH_KEY) as Uint8Array);
    expect(session.inputNames).toEqual(["tokens", "targets", ...manifest.parameters.map((p) => p.name)]);
    await session.release();
    const { params } = readCheckpoint(artifacts.get(INITIAL_CHECKPOINT_KEY) as Uint8Array, manifest);
    const loss = await (await LossSession.create(byteModel(hparams, "this test"), B)).loss(params, firstSamples());
    expect(Math.abs(loss - Math.log(256))).toBeLessThan(0.1);
  });

  it("round-trips checkpoints exactly and refuses one of another model", () => {
    const params = initialParameters(manifest, byteModel(hparams, "this test").n_layers, 7);
    const bytes = writeCheckpoint(params, manifest, { model: manifest.model, window: 12, global_step: 3 });
    const back = readCheckpoint(bytes, manifest);
    expect(back.metadata).toEqual({ model: manifest.model, window: 12, global_step: 3 });
    expect(Buffer.from(back.params.buffer).equals(Buffer.from(params.buffer))).toBe(true);
    const other = transformerManifest({ ...byteModel(hparams, "this test"), d_model: 64 });
    expect(() => readCheckpoint(bytes, other)).toThrowError(expect.objectContaining({ code: "CHECKPOINT_INVALID" }));
  });

  it("moves the loss through encode → decode → apply exactly as the same delta applied directly", async () => {
    // A delta the codec represents exactly: k entries ±v per chunk (2-D), half ±v (dense 1-D),
    // equally many of each sign, so top-k keeps them all and every decoded value is ±v or 0.
    const v = 2 ** -6;
    const delta = new Float32Array(total);
    const layouts = gradientLayout(manifest, hparams.compression);
    let sign = 1;
    slots.forEach(({ offset }, i) => {
      const layout = layouts[i] as (typeof layouts)[number];
      const take = layout.k < layout.totalk ? layout.k : layout.totalk / 2;
      for (let c = 0; c < layout.chunks; c++) {
        const cy = Math.floor(c / layout.gridCols);
        const cx = c % layout.gridCols;
        for (let t = 0; t < take; t++) {
          const e = (t * 37) % layout.totalk; // distinct positions within the chunk
          const at = offset + (cy * layout.h + Math.floor(e / layout.w)) * layout.cols + cx * layout.w + (e % layout.w);
          delta[at] = sign * v;
          sign = -sign;
        }
      }
    });
    const compressed = compressGradient(delta, layouts, hparams.compression);
    let at = 0;
    layouts.forEach((layout, i) => {
      const decoded = decompressParam(compressed[i] as never, layout, false);
      expect(
        Buffer.from(decoded.buffer).equals(Buffer.from(delta.subarray(at, at + layout.numel).slice().buffer)),
        layout.name,
      ).toBe(true);
      at += layout.numel;
    });

    const theta = initialParameters(manifest, byteModel(hparams, "this test").n_layers);
    const lr = hparams.training.outer_learning_rate * hparams.evaluation.eval_lr_factor;
    const viaCodec = theta.slice();
    applyGradient(viaCodec, compressed, layouts, false, lr);
    const direct = theta.map((x, j) => x - lr * (delta[j] as number));
    expect(Buffer.from(viaCodec.buffer).equals(Buffer.from(direct.buffer))).toBe(true);

    const session = await LossSession.create(byteModel(hparams, "this test"), B);
    const tokens = firstSamples();
    const [before, afterCodec, afterDirect] = [
      await session.loss(theta, tokens),
      await session.loss(viaCodec, tokens),
      await session.loss(direct, tokens),
    ];
    expect(afterCodec).toBe(afterDirect);
    expect(afterCodec).not.toBe(before);
  });

  it("gathers samples across shard boundaries", () => {
    const split = {
      tokens: 30,
      samples: 6,
      shards: [
        { key: "a", tokens: 12, sha256: "" },
        { key: "b", tokens: 18, sha256: "" },
      ],
    };
    const bytes = Uint8Array.from({ length: 30 }, (_, i) => i);
    const shard = (i: number) => (i === 0 ? bytes.subarray(0, 12) : bytes.subarray(12));
    expect(Array.from(gatherSamples(split, 4, [2, 0], shard))).toEqual([8, 9, 10, 11, 12, 0, 1, 2, 3, 4]);
    expect(() => gatherSamples(split, 4, [6], shard)).toThrow(RangeError);
  });
});
