/**
 * A Hugging Face LlamaForCausalLM checkpoint (one `model.safetensors` or a sharded index, F32, F16
 * or BF16) imported as a profile's θ_0: every manifest tensor must be there with the manifest's
 * shape, nothing else may be (bar RoPE's recomputed `inv_freq` buffers), and `config.json`, when
 * present, must describe the profile's shape. The checkpoint is streamed tensor by tensor to the
 * output file (F32, or BF16 at half the bytes), so a model larger than memory's typed-array
 * limits imports too. Faults are MODEL_FILE_INVALID naming the file and the tensor or field.
 */
import { open, readFile } from "node:fs/promises";
import path from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { bfloat16Bytes, float32Bytes, safetensorsHeader } from "../../schema/codec/safetensors.ts";
import {
  type CheckpointDtype,
  checkpointElementBytes,
  checkpointMetadataStrings,
} from "../../schema/model/checkpoint.ts";
import { type LlamaConfig, llamaManifest } from "../../schema/model/llama.ts";
import { numel } from "../../schema/model/manifest.ts";
import { modelFileFault, SafetensorsCheckpoint } from "./safetensors.ts";

/** Buffers HF saves beside the weights that the graph recomputes (RoPE's inverse frequencies). */
const RECOMPUTED = /\.rotary_emb\.inv_freq$/;

/** The config.json fields that fix the graph, compared with the profile's. */
const SHAPE_FIELDS = [
  "vocab_size",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "intermediate_size",
  "rope_theta",
  "rms_norm_eps",
  "tie_word_embeddings",
] as const;

/** Throws config_mismatch unless the HF config.json in `dir` (if any) has the profile's shape. */
export async function checkHfConfig(dir: string, config: LlamaConfig): Promise<void> {
  const file = path.join(dir, "config.json");
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code; // a system error name, not one of ours
    if (errno === "ENOENT") return;
    throw modelFileFault("config_mismatch", file, `config.json is not readable JSON (${(e as Error).message})`);
  }
  // HF omits head_dim when it is hidden_size / heads, and tie_word_embeddings when it is its default, true.
  const headDim = json.head_dim ?? Number(json.hidden_size) / Number(json.num_attention_heads);
  const tied = json.tie_word_embeddings ?? true;
  const seen: Record<string, unknown> = { ...json, head_dim: headDim, tie_word_embeddings: tied };
  for (const field of [...SHAPE_FIELDS, "head_dim"] as const) {
    if (seen[field] !== config[field])
      throw modelFileFault(
        "config_mismatch",
        file,
        `${field} is ${JSON.stringify(seen[field])}, the profile's model has ${JSON.stringify(config[field])}`,
      );
  }
}

/** What an import wrote. */
export interface ImportedCheckpoint {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly tensors: number;
  readonly parameters: number;
}

/**
 * Imports the HF checkpoint at `hf` (a directory, an index file or one .safetensors file) as a
 * checkpoint of `config`'s manifest at `out`, window 0, step 0, stored as `dtype`.
 */
export async function importHfCheckpoint(opts: {
  hf: string;
  config: LlamaConfig;
  out: string;
  dtype: CheckpointDtype;
  log?: (line: string) => void;
}): Promise<ImportedCheckpoint> {
  const manifest = llamaManifest(opts.config);
  const source = await SafetensorsCheckpoint.open(opts.hf);
  try {
    await checkHfConfig(path.dirname(source.source), opts.config);
    const wanted = new Set(manifest.parameters.map((p) => p.name));
    for (const name of source.names()) {
      if (!wanted.has(name) && !RECOMPUTED.test(name))
        throw modelFileFault(
          "unexpected_tensor",
          source.source,
          `the profile's model ${manifest.model} has no such parameter`,
          name,
        );
    }
    for (const spec of manifest.parameters) {
      const entry = source.entry(spec.name); // tensor_missing when absent
      if (JSON.stringify(entry.shape) !== JSON.stringify(spec.shape))
        throw modelFileFault(
          "shape_mismatch",
          source.fileOf(spec.name).file,
          `shape [${entry.shape}], the profile's model has [${spec.shape}]`,
          spec.name,
        );
    }
    const width = checkpointElementBytes(opts.dtype);
    const { json, ordered } = safetensorsHeader(
      manifest.parameters.map((p) => ({ ...p, dtype: opts.dtype, byteLength: numel(p.shape) * width })),
      checkpointMetadataStrings({ model: manifest.model, window: 0, global_step: 0 }),
    );
    const hash = sha256.create();
    const handle = await open(opts.out, "w");
    let written = 0;
    const write = async (bytes: Uint8Array) => {
      hash.update(bytes);
      await handle.write(bytes, 0, bytes.length, written);
      written += bytes.length;
    };
    try {
      const length = new Uint8Array(8);
      new DataView(length.buffer).setBigUint64(0, BigInt(json.length), true);
      await write(length);
      await write(json);
      for (const [i, spec] of ordered.entries()) {
        const values = await source.read(spec.name);
        await write(opts.dtype === "F32" ? float32Bytes(values) : bfloat16Bytes(values));
        opts.log?.(`[${i + 1}/${ordered.length}] ${spec.name} [${spec.shape}]`);
      }
    } finally {
      await handle.close();
    }
    return {
      file: opts.out,
      bytes: written,
      sha256: bytesToHex(hash.digest()),
      tensors: ordered.length,
      parameters: manifest.parameters.reduce((n, p) => n + numel(p.shape), 0),
    };
  } finally {
    await source.close();
  }
}
