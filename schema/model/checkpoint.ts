/**
 * Checkpoints: every parameter of the model as one tensor of its manifest shape in a safetensors
 * file, all F32 or all BF16 (half the bytes: an imported θ_0 may be stored so; it is widened to
 * fp32 when read, and outer steps write F32), with string metadata naming the format, the model,
 * the window whose θ it is and the outer steps applied. Runners, miners and the Worker read and
 * write them alike.
 */

import { bfloat16Bytes, float32Bytes, readBfloat16, writeSafetensors } from "../codec/safetensors.ts";
import { EdgeError } from "../errors.ts";
import { type ModelManifest, parameterSlots } from "./manifest.ts";

export const CHECKPOINT_FORMAT = "templar-edge.checkpoint";
export const CHECKPOINT_FORMAT_VERSION = "1";
/** A window's dense aggregate, stored in the same layout (one F32 tensor per parameter). */
export const AGGREGATE_FORMAT = "templar-edge.aggregate";
export type ParameterFileFormat = typeof CHECKPOINT_FORMAT | typeof AGGREGATE_FORMAT;
/** How a checkpoint stores its values: fp32, or bfloat16 rounded to nearest even. */
export type CheckpointDtype = "F32" | "BF16";
const ELEMENT_BYTES: Readonly<Record<CheckpointDtype, number>> = { F32: 4, BF16: 2 };

export interface CheckpointMetadata {
  /** The manifest's model label. */
  readonly model: string;
  /** The window S whose θ_S this is. */
  readonly window: number;
  /** Outer steps applied since the initial parameters. */
  readonly global_step: number;
}

/** Serializes a flat parameter vector (manifest order); `format` names what it holds, `dtype` how values are stored. */
export function writeCheckpoint(
  params: Float32Array,
  manifest: ModelManifest,
  meta: CheckpointMetadata,
  format: ParameterFileFormat = CHECKPOINT_FORMAT,
  dtype: CheckpointDtype = "F32",
): Uint8Array {
  const { slots, total } = parameterSlots(manifest);
  if (params.length !== total)
    throw new EdgeError("BAD_REQUEST", `${params.length} parameters, the manifest has ${total}`);
  return writeSafetensors(
    slots.map(({ spec, offset, numel }) => ({
      name: spec.name,
      dtype,
      shape: spec.shape,
      bytes: (dtype === "F32" ? float32Bytes : bfloat16Bytes)(params.subarray(offset, offset + numel)),
    })),
    checkpointMetadataStrings(meta, format),
  );
}

/** The `__metadata__` strings of a parameter file (for writers that stream the tensors themselves). */
export function checkpointMetadataStrings(
  meta: CheckpointMetadata,
  format: ParameterFileFormat = CHECKPOINT_FORMAT,
): Record<string, string> {
  return {
    format,
    format_version: CHECKPOINT_FORMAT_VERSION,
    model: meta.model,
    window: String(meta.window),
    global_step: String(meta.global_step),
  };
}

/** Where each parameter's data lies in a checkpoint file: [begin, end) byte offsets in the file. */
export type CheckpointLayout = ReadonlyMap<string, readonly [number, number]>;

const bad = (why: string) => new EdgeError("CHECKPOINT_INVALID", `checkpoint: ${why}`);

/** The JSON header's length, from a checkpoint's first 8 bytes. */
export function checkpointHeaderLength(first8: Uint8Array): number {
  if (first8.length < 8) throw bad("shorter than its header length");
  return Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
}

/**
 * Checks a checkpoint's header (the `n` bytes after the first 8) against the manifest and returns
 * its layout and metadata; `fileSize` bounds every tensor. CHECKPOINT_INVALID if it does not fit.
 */
export function readCheckpointHeader(
  header: Uint8Array,
  manifest: ModelManifest,
  fileSize: number,
  format: ParameterFileFormat = CHECKPOINT_FORMAT,
): { layout: CheckpointLayout; metadata: CheckpointMetadata; dtype: CheckpointDtype } {
  let json: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    json = JSON.parse(new TextDecoder().decode(header));
  } catch {
    throw bad("header is not JSON");
  }
  const meta = (json.__metadata__ ?? {}) as Record<string, string>;
  if (meta.format !== format || meta.format_version !== CHECKPOINT_FORMAT_VERSION) throw bad(`not a ${format} v1 file`);
  if (meta.model !== manifest.model) throw bad(`model ${meta.model}, expected ${manifest.model}`);
  const dataStart = 8 + header.length;
  const layout = new Map<string, readonly [number, number]>();
  const slots = parameterSlots(manifest).slots;
  const first = json[slots[0]?.spec.name ?? ""] as { dtype?: unknown } | undefined;
  const dtype: CheckpointDtype = first?.dtype === "BF16" ? "BF16" : "F32";
  for (const { spec, numel } of slots) {
    const entry = json[spec.name] as { dtype: string; shape: number[]; data_offsets: [number, number] } | undefined;
    if (!entry || entry.dtype !== dtype || JSON.stringify(entry.shape) !== JSON.stringify(spec.shape))
      throw bad(`tensor ${spec.name} is missing or misshapen (every tensor F32, or every one BF16)`);
    const [begin, end] = entry.data_offsets;
    if (end - begin !== numel * ELEMENT_BYTES[dtype] || dataStart + end > fileSize)
      throw bad(`tensor ${spec.name} has the wrong size`);
    layout.set(spec.name, [dataStart + begin, dataStart + end]);
  }
  return {
    layout,
    metadata: { model: meta.model, window: Number(meta.window), global_step: Number(meta.global_step) },
    dtype,
  };
}

/** Reads a checkpoint into a flat parameter vector in manifest order; CHECKPOINT_INVALID if it does not fit the manifest. */
export function readCheckpoint(
  bytes: Uint8Array,
  manifest: ModelManifest,
  format: ParameterFileFormat = CHECKPOINT_FORMAT,
): { params: Float32Array; metadata: CheckpointMetadata } {
  const n = checkpointHeaderLength(bytes);
  if (8 + n > bytes.length) throw bad("header runs past the end");
  const { layout, metadata, dtype } = readCheckpointHeader(bytes.subarray(8, 8 + n), manifest, bytes.length, format);
  const { slots, total } = parameterSlots(manifest);
  const params = new Float32Array(total);
  for (const { spec, offset, numel } of slots) {
    const [begin, end] = layout.get(spec.name) as readonly [number, number];
    decodeValues(dtype, bytes.subarray(begin, end), numel, params, offset);
  }
  return { params, metadata };
}

/** `count` stored values of `dtype` into `out` at `at`, as float32. */
export function decodeValues(
  dtype: CheckpointDtype,
  bytes: Uint8Array,
  count: number,
  out: Float32Array,
  at = 0,
): void {
  if (dtype === "BF16") {
    readBfloat16(bytes, count, out, at);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[at + i] = view.getFloat32(4 * i, true);
}

/** Bytes one stored value of `dtype` takes. */
export function checkpointElementBytes(dtype: CheckpointDtype): number {
  return ELEMENT_BYTES[dtype];
}
