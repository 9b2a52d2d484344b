// Importing an HF LlamaForCausalLM checkpoint as θ_0 (gpu-runner/model/import-hf.ts and
// `npm run import-checkpoint`): torch's fixture weights, sharded with an index and an HF
// config.json, come out tensor for tensor in the validator's checkpoint (F32 exactly, BF16 rounded
// as torch rounds); a missing, extra or misshapen tensor and a config of another shape are refused
// naming it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { importHfCheckpoint } from "../../gpu-runner/model/import-hf.ts";
import { bfloat16Bytes, float32Bytes, readBfloat16, writeSafetensors } from "../../schema/codec/safetensors.ts";
import { readCheckpoint } from "../../schema/model/checkpoint.ts";
import { INITIAL_CHECKPOINT_KEY, MODEL_MANIFEST_KEY } from "../../schema/model/keys.ts";
import { LLAMA_TINY, type LlamaConfig, llamaManifest } from "../../schema/model/llama.ts";
import { type FixtureTensor, flatWeights, readLlamaFixture, readLlamaTensors } from "./support/llama-fixtures.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "import-hf-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** HF's config.json fields for a LlamaConfig (head_dim left out, as HF does when it is d / heads). */
function hfConfig(c: LlamaConfig): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...c };
  delete fields.head_dim;
  return { architectures: ["LlamaForCausalLM"], model_type: "llama", torch_dtype: "float32", ...fields };
}

/** Writes `tensors` as an HF checkpoint in a new folder: two shards and model.safetensors.index.json. */
function writeHfDir(name: string, tensors: Map<string, FixtureTensor>, config: Record<string, unknown>): string {
  const dir = path.join(scratch, name);
  execFileSync("mkdir", ["-p", dir]);
  const names = [...tensors.keys()];
  const half = Math.ceil(names.length / 2);
  const weightMap: Record<string, string> = {};
  names.forEach((n, i) => {
    weightMap[n] = i < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  });
  for (const shard of new Set(Object.values(weightMap))) {
    const mine = names.filter((n) => weightMap[n] === shard);
    const file = writeSafetensors(
      mine.map((n) => {
        const t = tensors.get(n) as FixtureTensor;
        return { name: n, dtype: "F32" as const, shape: t.shape, bytes: float32Bytes(t.data) };
      }),
      { format: "pt" },
    );
    writeFileSync(path.join(dir, shard), file);
  }
  writeFileSync(
    path.join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

async function modelTensors(name: string): Promise<Map<string, FixtureTensor>> {
  const all = await readLlamaTensors(name);
  return new Map([...all].filter(([n]) => !n.startsWith("expected.")));
}

describe("importing an HF checkpoint", () => {
  for (const name of ["tied", "untied"] as const) {
    it(`${name}: every tensor of torch's weights lands in the checkpoint, F32 bit for bit and BF16 as torch rounds`, async () => {
      const { config } = readLlamaFixture(name);
      const tensors = await modelTensors(name);
      const dir = writeHfDir(`ok-${name}`, tensors, hfConfig(config));
      const manifest = llamaManifest(config);
      const expected = flatWeights(tensors, manifest);
      const f32 = await importHfCheckpoint({ hf: dir, config, out: path.join(scratch, `${name}.f32`), dtype: "F32" });
      expect(f32.tensors).toBe(manifest.parameters.length);
      const back = readCheckpoint(new Uint8Array(readFileSync(f32.file)), manifest);
      expect(back.metadata).toEqual({ model: manifest.model, window: 0, global_step: 0 });
      expect(Buffer.from(back.params.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      const bf16 = await importHfCheckpoint({
        hf: dir,
        config,
        out: path.join(scratch, `${name}.bf16`),
        dtype: "BF16",
      });
      expect(bf16.bytes).toBeLessThan(f32.bytes / 2 + 4096);
      const rounded = readCheckpoint(new Uint8Array(readFileSync(bf16.file)), manifest).params;
      expect(Array.from(rounded)).toEqual(Array.from(readBfloat16(bfloat16Bytes(expected), expected.length)));
    });
  }

  it("refuses a missing, an extra or a misshapen tensor, and a config.json of another shape, naming it", async () => {
    const { config } = readLlamaFixture("tied");
    const tensors = await modelTensors("tied");
    const attempt = (dir: string) =>
      importHfCheckpoint({ hf: dir, config, out: path.join(scratch, "refused"), dtype: "F32" });
    const fault = (reason: string, tensor?: string) =>
      expect.objectContaining({
        code: "MODEL_FILE_INVALID",
        details: expect.objectContaining({ reason, ...(tensor ? { tensor } : {}) }),
      });

    const missing = new Map(tensors);
    missing.delete("model.layers.1.mlp.up_proj.weight");
    await expect(attempt(writeHfDir("missing", missing, hfConfig(config)))).rejects.toThrowError(
      fault("tensor_missing", "model.layers.1.mlp.up_proj.weight"),
    );

    const extra = new Map(tensors);
    extra.set("lm_head.weight", tensors.get("model.embed_tokens.weight") as FixtureTensor);
    await expect(attempt(writeHfDir("extra", extra, hfConfig(config)))).rejects.toThrowError(
      fault("unexpected_tensor", "lm_head.weight"),
    );

    const misshapen = new Map(tensors);
    const k = tensors.get("model.layers.0.self_attn.k_proj.weight") as FixtureTensor;
    misshapen.set("model.layers.0.self_attn.k_proj.weight", {
      shape: [k.shape[1] as number, k.shape[0] as number],
      data: k.data,
    });
    await expect(attempt(writeHfDir("misshapen", misshapen, hfConfig(config)))).rejects.toThrowError(
      fault("shape_mismatch", "model.layers.0.self_attn.k_proj.weight"),
    );

    await expect(
      attempt(writeHfDir("theta", tensors, { ...hfConfig(config), rope_theta: 500000 })),
    ).rejects.toThrowError(
      expect.objectContaining({
        message: expect.stringMatching(/rope_theta is 500000, the profile's model has 10000/),
      }),
    );

    // RoPE's inv_freq buffers (older HF saves) are recomputed by the graph, so they are skipped.
    const withBuffers = new Map(tensors);
    withBuffers.set("model.layers.0.self_attn.rotary_emb.inv_freq", { shape: [4], data: new Float32Array(4) });
    await expect(attempt(writeHfDir("buffers", withBuffers, hfConfig(config)))).resolves.toBeDefined();
  });

  it("npm run import-checkpoint writes llama-tiny's θ_0 and a manifest naming it, and exits 2 on another shape", () => {
    const manifest = llamaManifest(LLAMA_TINY);
    const tensors = new Map<string, FixtureTensor>(
      manifest.parameters.map((p, i) => {
        const n = p.shape.reduce((a, b) => a * b, 1);
        return [p.name, { shape: p.shape, data: Float32Array.from({ length: n }, (_, j) => Math.sin(i + j) * 0.02) }];
      }),
    );
    const dir = writeHfDir("tiny", tensors, hfConfig(LLAMA_TINY));
    const out = path.join(scratch, "artifacts");
    const script = path.join(import.meta.dirname, "../../scripts/import-checkpoint.ts");
    const stdout = execFileSync(
      process.execPath,
      [script, "--hf", dir, "--profile", "llama-tiny", "--dtype", "bf16", "--out", out],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    expect(stdout).toMatch(/2,140,480 parameters/);
    const published = JSON.parse(readFileSync(path.join(out, MODEL_MANIFEST_KEY), "utf8"));
    expect(published.initial_checkpoint.imported_from).toBe(dir);
    expect(stdout).toContain(published.initial_checkpoint.sha256);
    const theta = readCheckpoint(new Uint8Array(readFileSync(path.join(out, INITIAL_CHECKPOINT_KEY))), manifest).params;
    const embed = tensors.get("model.embed_tokens.weight") as FixtureTensor;
    expect(Array.from(theta.subarray(0, 8))).toEqual(
      Array.from(readBfloat16(bfloat16Bytes(embed.data.subarray(0, 8)), 8)),
    );

    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(
        process.execPath,
        [
          script,
          "--hf",
          writeHfDir("wrong", tensors, hfConfig({ ...LLAMA_TINY, rms_norm_eps: 1e-5 })),
          "--profile",
          "llama-tiny",
          "--out",
          out,
        ],
        {
          encoding: "utf8",
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
    } catch (e) {
      failure = e as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(2);
    expect(failure?.stderr).toMatch(
      /MODEL_FILE_INVALID: .*config\.json: rms_norm_eps is 0\.00001, the profile's model has 0\.000001/,
    );
  });
});
