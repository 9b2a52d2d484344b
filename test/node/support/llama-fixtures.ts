// The golden llama fixtures of scripts/fixtures/llama-fixtures.py (test/node/fixtures/llama/):
// each case's JSON (config, ids, labels, per-sample losses) and its float32 tensors (HF-named
// weights, "expected.logits", "expected.grad.<name>").
import { readFileSync } from "node:fs";
import path from "node:path";
import { SafetensorsFile } from "../../../gpu-runner/model/safetensors.ts";
import type { LlamaConfig } from "../../../schema/model/llama.ts";
import { type ModelManifest, parameterSlots } from "../../../schema/model/manifest.ts";

export const LLAMA_FIXTURES = path.join(import.meta.dirname, "../fixtures/llama");
/** The two cases: a tied and an untied head, both GQA (4 heads on 2 KV heads), EOS inside and at the end. */
export const LLAMA_CASES = ["tied", "untied"] as const;

export interface LlamaFixture {
  config: LlamaConfig;
  batch: number;
  seq_len: number;
  input_ids: number[][];
  labels: number[][];
  sample_losses: number[];
}

/** A case's JSON half. */
export function readLlamaFixture(name: string): LlamaFixture {
  return JSON.parse(readFileSync(path.join(LLAMA_FIXTURES, `${name}.json`), "utf8")) as LlamaFixture;
}

/** A stored tensor: its shape and float32 values, row-major. */
export interface FixtureTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A case's tensors by name, every one the file holds, in file order. */
export async function readLlamaTensors(name: string): Promise<Map<string, FixtureTensor>> {
  const file = await SafetensorsFile.open(path.join(LLAMA_FIXTURES, `${name}.safetensors`));
  try {
    const tensors = new Map<string, FixtureTensor>();
    for (const t of file.header.tensors.values())
      tensors.set(t.name, { shape: t.shape, data: await file.read(t.name) });
    return tensors;
  } finally {
    await file.close();
  }
}

/** max |a − b| / max |b|: the error relative to the reference's scale. */
export function relativeToScale(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return diff / scale;
}

/** The manifest's parameters, flat in manifest order, from a case's tensors. */
export function flatWeights(tensors: Map<string, FixtureTensor>, manifest: ModelManifest): Float32Array {
  const { slots, total } = parameterSlots(manifest);
  const flat = new Float32Array(total);
  for (const { spec, offset } of slots) flat.set((tensors.get(spec.name) as FixtureTensor).data, offset);
  return flat;
}
