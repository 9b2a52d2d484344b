// A checkpoint's loss on token samples (gpu-runner/checkpoint-loss.ts, `npm run eval-loss`):
// the per-sample losses of torch's golden fixture whatever the micro-batch, and the CLI on
// llama-tiny's initial θ and a real LLaMA-2-tokenized shard.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkpointLoss } from "../../gpu-runner/checkpoint-loss.ts";
import { modelManifest } from "../../gpu-runner/model/family.ts";
import { getHparams, type Hparams } from "../../schema/hparams.ts";
import { INITIAL_CHECKPOINT_KEY } from "../../schema/model/keys.ts";
import { llamaManifest } from "../../schema/model/llama.ts";
import { modelArtifacts } from "../../scripts/artifacts/model-artifacts.ts";
import { templarData } from "../../scripts/data/templar-data.ts";
import { llama2Tokenizer } from "../../scripts/data/tokenizer-llama2.ts";
import { flatWeights, readLlamaFixture, readLlamaTensors } from "./support/llama-fixtures.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "eval-loss-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("eval-loss", () => {
  it("gives torch's per-sample losses of the golden fixture, in micro-batches of 1 and 2", async () => {
    for (const name of ["tied", "untied"] as const) {
      const fixture = readLlamaFixture(name);
      const base = getHparams("llama-tiny");
      const params = flatWeights(await readLlamaTensors(name), llamaManifest(fixture.config));
      const samples = Uint32Array.from(fixture.input_ids.flat());
      for (const micro of [1, 2]) {
        const hparams: Hparams = {
          ...base,
          model: {
            family: "llama",
            config: fixture.config,
            tokenizer: "llama2",
            seq_len: fixture.seq_len,
            micro_batch: micro,
          },
        };
        const result = await checkpointLoss({ hparams, params, samples, decode: (ids) => "x".repeat(ids.length) });
        expect(result.samples).toBe(fixture.batch);
        result.per_sample.forEach((loss, i) => {
          expect(
            Math.abs(loss - (fixture.sample_losses[i] as number)) / (fixture.sample_losses[i] as number),
          ).toBeLessThan(1e-5);
        });
        const scored = fixture.labels.flat().filter((l) => l !== -100).length;
        expect(result.scored_tokens).toBe(scored);
        expect(result.scored_bytes).toBe(scored); // one byte per token from the stand-in decoder
      }
    }
  });

  it("npm run eval-loss prints llama-tiny's initial loss near ln 32000 on a LLaMA-2 shard, and bits per byte from it", async () => {
    const hparams = getHparams("llama-tiny");
    const checkpoint = path.join(scratch, "theta0.safetensors");
    writeFileSync(checkpoint, modelArtifacts(hparams).get(INITIAL_CHECKPOINT_KEY) as Uint8Array);
    expect(modelManifest(hparams.model).model).toContain("v32000");
    const text = "It was the best of times, it was the worst of times, it was the age of wisdom. ".repeat(40);
    const data = templarData([text, text.toUpperCase()], llama2Tokenizer(), 128);
    const shard = path.join(scratch, "train_000000.npy");
    writeFileSync(shard, data.files.get("train_000000.npy") as Uint8Array);
    const script = path.join(import.meta.dirname, "../../scripts/eval-loss.ts");
    const out = execFileSync(
      process.execPath,
      [
        script,
        "--profile",
        "llama-tiny",
        "--checkpoint",
        checkpoint,
        "--samples",
        shard,
        "--max-samples",
        "3",
        "--json",
      ],
      { encoding: "utf8" },
    );
    const result = JSON.parse(out);
    expect(result.samples).toBe(3);
    expect(result.per_sample).toHaveLength(3);
    expect(Math.abs(result.mean_loss - Math.log(32_000))).toBeLessThan(0.1);
    const bytesPerToken = result.scored_bytes / result.scored_tokens;
    expect(bytesPerToken).toBeGreaterThan(2);
    expect(result.bits_per_byte).toBeCloseTo(
      result.per_sample.reduce((a: number, b: number) => a + b, 0) / 3 / Math.LN2 / bytesPerToken,
      1,
    );

    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(
        process.execPath,
        [script, "--profile", "llama-tiny", "--checkpoint", checkpoint, "--samples", checkpoint],
        {
          encoding: "utf8",
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
    } catch (e) {
      failure = e as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(2);
    expect(failure?.stderr).toMatch(/eval-loss: DATA_FILE_INVALID: .*theta0\.safetensors/);
  });
});
