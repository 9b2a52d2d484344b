// The reference miner on the llama family (llama-tiny, LLaMA-2's real tokenizer, Templar's data
// format): its inner steps lower the loss of its own pool from ≈ ln 32000, in micro-batches; the
// window's file validates against the llama manifest and carries the compressed Δ; and the
// micro-batched session's gradient equals the one-run gradient (gradient accumulation).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelManifest } from "../../gpu-runner/model/family.ts";
import { type EvalSession, openEvalSession, openTrainSession } from "../../gpu-runner/model/family-sessions.ts";
import { LlamaGradientSession } from "../../gpu-runner/model/llama-gradient-session.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import { getHparams } from "../../schema/hparams.ts";
import { readCheckpoint } from "../../schema/model/checkpoint.ts";
import { INITIAL_CHECKPOINT_KEY } from "../../schema/model/keys.ts";
import { LLAMA_TINY } from "../../schema/model/llama.ts";
import { minerPool } from "../../schema/sampling/assignment.ts";
import { tokenDataArtifacts } from "../../scripts/artifacts/data-artifacts.ts";
import { writeArtifacts } from "../../scripts/artifacts/files.ts";
import { modelArtifacts } from "../../scripts/artifacts/model-artifacts.ts";
import { llama2Tokenizer } from "../../scripts/data/tokenizer-llama2.ts";
import { Trainer } from "../../scripts/miner/trainer.ts";
import { LocalDataset } from "../../scripts/simulate/local-dataset.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CORPUS = path.resolve(ROOT, "../shared/data/tinyshakespeare.txt");
const hparams = getHparams("llama-tiny");
const manifest = modelManifest(hparams.model);
const dir = mkdtempSync(path.join(tmpdir(), "llama-miner-"));
const corpus = existsSync(CORPUS)
  ? new Uint8Array(readFileSync(CORPUS)).subarray(0, 200_000)
  : new TextEncoder().encode("To be, or not to be, that is the question.\n\n".repeat(4000));
writeArtifacts(dir, tokenDataArtifacts(corpus, "corpus.txt", hparams, llama2Tokenizer()));
const data = new LocalDataset(dir);
const theta0 = readCheckpoint(modelArtifacts(hparams).get(INITIAL_CHECKPOINT_KEY) as Uint8Array, manifest).params;
const { inner_steps, batch_size } = hparams.training;
const samples = (ids: readonly number[]) => data.samples("train", ids);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the reference miner on llama-tiny", () => {
  let trainer: Trainer;
  let session: EvalSession;
  beforeAll(async () => {
    trainer = await Trainer.create(hparams);
    session = await openEvalSession(hparams, batch_size);
  });
  afterAll(async () => {
    await trainer?.release();
    await session?.release();
  });

  it("lowers its pool's loss from ≈ ln 32000 and uploads a file of the llama manifest", async () => {
    expect(data.manifest.format_version).toBe("2");
    const pool = minerPool(3, 1, data.manifest.splits.train.samples, inner_steps * batch_size);
    const loss = async (theta: Float32Array) => {
      let sum = 0;
      for (let j = 0; j < inner_steps; j++)
        sum += await session.loss(theta, await samples(pool.slice(j * batch_size, (j + 1) * batch_size)));
      return sum / inner_steps;
    };
    const before = await loss(theta0);
    const identity = { netuid: 2, window: 1, uid: 3, hotkey: "5x", base_window: 1 };
    const g = await trainer.trainWindow({ theta: theta0, pool, samples, identity });
    const after = await loss(Float32Array.from(theta0, (v, i) => v - (g.delta[i] as number)));
    expect(Math.abs(before - Math.log(32_000))).toBeLessThan(0.1);
    expect(g.losses).toHaveLength(inner_steps);
    expect(after).toBeLessThan(before - 0.05);
    const file = readGradientFile(g.file, { manifest, hparams });
    expect(file.params.map((p) => p.name)).toEqual(manifest.parameters.map((p) => p.name));
  });

  it("accumulates micro-batch gradients into the one-run gradient", async () => {
    const micro = await openTrainSession(hparams, batch_size); // micro_batch 8 of 16
    const whole = await LlamaGradientSession.create(LLAMA_TINY, batch_size, hparams.model.seq_len);
    try {
      const tokens = await samples([5, 9, 14, 20, 33, 41, 50, 61, 70, 88, 91, 99, 104, 111, 120, 130]);
      const a = await micro.lossAndGradient(theta0, tokens);
      const b = await whole.lossAndGradient(theta0, tokens);
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < a.gradient.length; i++) {
        diff = Math.max(diff, Math.abs((a.gradient[i] as number) - (b.gradient[i] as number)));
        scale = Math.max(scale, Math.abs(b.gradient[i] as number));
      }
      expect(scale).toBeGreaterThan(0);
      expect(diff / scale).toBeLessThan(1e-4);
    } finally {
      await micro.release();
      await whole.release();
    }
  });
});
