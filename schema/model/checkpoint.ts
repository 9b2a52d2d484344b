/**
 * Checkpoints: every parameter of the model as one F32 tensor of its manifest shape in a
 * safetensors file, with string metadata naming the format, the model, the window whose θ it is
 * and the outer steps applied. Runners, miners and the Worker read and write them alike.
 */

import { float32Bytes, writeSafetensors } from "../codec/safetensors.ts";
import { EdgeError } from "../errors.ts";
import { type ModelManifest, parameterSlots } from "./manifest.ts";

export const CHECKPOINT_FORMAT = "templar-edge.checkpoint";
export const CHECKPOINT_FORMAT_VERSION = "1";

export interface CheckpointMetadata {
  /** The manifest's model label. */
  readonly model: string;
  /** The window S whose θ_S this is. */
  readonly window: number;
  /** Outer steps applied since the initial parameters. */
  readonly global_step: number;
}

/** Serializes a flat parameter vector (manifest order). */
export function writeCheckpoint(params: Float32Array, manifest: ModelManifest, meta: CheckpointMetadata): Uint8Array {
  const { slots, total } = parameterSlots(manifest);
  if (params.length !== total)
    throw new EdgeError("BAD_REQUEST", `${params.length} parameters, the manifest has ${total}`);
  return writeSafetensors(
    slots.map(({ spec, offset, numel }) => ({
      name: spec.name,
      dtype: "F32" as const,
      shape: spec.shape,
      bytes: float32Bytes(params.subarray(offset, offset + numel)),
    })),
    {
      format: CHECKPOINT_FORMAT,
      format_version: CHECKPOINT_FORMAT_VERSION,
      model: meta.model,
      window: String(meta.window),
      global_step: String(meta.global_step),
    },
  );
}

/** Reads a checkpoint into a flat parameter vector in manifest order; CHECKPOINT_INVALID if it does not fit the manifest. */
export function readCheckpoint(
  bytes: Uint8Array,
  manifest: ModelManifest,
): { params: Float32Array; metadata: CheckpointMetadata } {
  const bad = (why: string) => new EdgeError("CHECKPOINT_INVALID", `checkpoint: ${why}`);
  if (bytes.length < 8) throw bad("shorter than its header length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) throw bad("header runs past the end");
  let header: Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>
  >;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw bad("header is not JSON");
  }
  const meta = (header.__metadata__ ?? {}) as Record<string, string>;
  if (meta.format !== CHECKPOINT_FORMAT || meta.format_version !== CHECKPOINT_FORMAT_VERSION)
    throw bad("not a templar-edge checkpoint v1");
  if (meta.model !== manifest.model) throw bad(`model ${meta.model}, expected ${manifest.model}`);
  const { slots, total } = parameterSlots(manifest);
  const params = new Float32Array(total);
  for (const { spec, offset, numel } of slots) {
    const entry = header[spec.name] as { dtype: string; shape: number[]; data_offsets: [number, number] } | undefined;
    if (!entry || entry.dtype !== "F32" || JSON.stringify(entry.shape) !== JSON.stringify(spec.shape))
      throw bad(`tensor ${spec.name} is missing or misshapen`);
    const [begin, end] = entry.data_offsets;
    if (end - begin !== numel * 4 || 8 + n + end > bytes.length) throw bad(`tensor ${spec.name} has the wrong size`);
    const at = 8 + n + begin;
    for (let i = 0; i < numel; i++) params[offset + i] = view.getFloat32(at + 4 * i, true);
  }
  return {
    params,
    metadata: { model: meta.model, window: Number(meta.window), global_step: Number(meta.global_step) },
  };
}
