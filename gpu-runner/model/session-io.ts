/**
 * What the model's onnxruntime sessions share: how a graph is opened, how a batch of tokens and a
 * flat parameter vector become the graph's feeds, and how a training graph's gradient outputs
 * become one flat vector.
 */
import ort from "onnxruntime-node";
import type { ParameterSlot } from "../../schema/model/manifest.ts";
import { gradientOutput } from "./autodiff.ts";
import { INPUT_IDS, LABELS, templarLabels } from "./llama.ts";
import { TARGETS, TOKENS } from "./transformer.ts";

export type Device = "cpu" | "cuda";

/**
 * Opens a model graph on `device` (CPU by default, the CUDA execution provider where installed).
 * A graph with external initializers names their files relative to `externalDataFolder`.
 */
export function openModelSession(
  graph: Uint8Array,
  device: Device,
  externalDataFolder?: string,
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(graph, {
    executionProviders: device === "cuda" ? ["cuda", "cpu"] : ["cpu"],
    // One intra-op thread was the fastest under contention (docs/MODEL.md §4).
    intraOpNumThreads: 1,
    graphOptimizationLevel: "all",
    // A graph opened from bytes has no folder of its own: onnxruntime resolves external data
    // here, and refuses absolute locations or ones that leave this folder (symlinks included).
    ...(externalDataFolder === undefined
      ? {}
      : { extra: { session: { model_external_initializers_file_folder_path: externalDataFolder } } }),
  });
}

/**
 * The tokens and targets feeds of `batch` sequences: `tokens` holds batch·(seqLen + 1) bytes,
 * each sequence its inputs followed by one more byte (targets are the inputs shifted by one).
 */
export function batchFeeds(tokens: ArrayLike<number>, batch: number, seqLen: number): Record<string, ort.Tensor> {
  if (tokens.length !== batch * (seqLen + 1))
    throw new Error(`expected ${batch}×${seqLen + 1} tokens, got ${tokens.length}`);
  const inputs = new BigInt64Array(batch * seqLen);
  const targets = new BigInt64Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seqLen; t++) {
      inputs[b * seqLen + t] = BigInt(tokens[b * (seqLen + 1) + t] as number);
      targets[b * seqLen + t] = BigInt(tokens[b * (seqLen + 1) + t + 1] as number);
    }
  }
  return {
    [TOKENS]: new ort.Tensor("int64", inputs, [batch, seqLen]),
    [TARGETS]: new ort.Tensor("int64", targets, [batch, seqLen]),
  };
}

/**
 * The `input_ids` and `labels` feeds of the llama family for `batch` samples of `seqLen` token ids
 * (row-major): the ids as they are, labels from {@link templarLabels} with pad = `eos`.
 */
export function llamaBatchFeeds(
  ids: ArrayLike<number>,
  batch: number,
  seqLen: number,
  eos: number,
): Record<string, ort.Tensor> {
  const labels = templarLabels(ids, batch, seqLen, eos);
  return {
    [INPUT_IDS]: new ort.Tensor("int64", BigInt64Array.from(Array.from(ids), BigInt), [batch, seqLen]),
    [LABELS]: new ort.Tensor("int64", labels, [batch, seqLen]),
  };
}

/** One feed per parameter, each a view (no copy) of its slot in the flat vector `params`. */
export function parameterFeeds(
  slots: readonly ParameterSlot[],
  params: Float32Array | Float64Array,
): Record<string, ort.Tensor> {
  const last = slots[slots.length - 1];
  const total = last === undefined ? 0 : last.offset + last.numel;
  if (params.length !== total) throw new Error(`expected ${total} parameters, got ${params.length}`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const { spec, offset, numel } of slots) {
    const view = params.subarray(offset, offset + numel);
    feeds[spec.name] =
      view instanceof Float64Array
        ? new ort.Tensor("float64", view, [...spec.shape])
        : new ort.Tensor("float32", view, [...spec.shape]);
  }
  return feeds;
}

/** What a training graph's run fetches: `loss`, then each parameter's gradient in manifest order. */
export function trainingFetches(loss: string, slots: readonly ParameterSlot[]): string[] {
  return [loss, ...slots.map(({ spec }) => gradientOutput(spec.name))];
}

/** The gradient outputs of a training graph's run, flat in manifest order (the layout of the parameters). */
export function flatGradient(
  out: ort.InferenceSession.OnnxValueMapType,
  slots: readonly ParameterSlot[],
  total: number,
): Float32Array {
  const gradient = new Float32Array(total);
  for (const { spec, offset } of slots) {
    gradient.set((out[gradientOutput(spec.name)] as ort.Tensor).data as Float32Array, offset);
  }
  return gradient;
}
