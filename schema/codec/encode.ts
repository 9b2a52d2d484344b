/**
 * Miner side: dense pseudo-gradient → compressed parameters → gradient file bytes.
 */
import { EdgeError } from "../errors.ts";
import type { CompressionHparams, SyncHparams } from "../hparams.ts";
import { gatherChunk, type ParamLayout } from "./chunking.ts";
import { packCodes } from "./codes2bit.ts";
import { dctChunk } from "./dct.ts";
import {
  type CompressedParam,
  type GradientIdentity,
  type GradientMetadata,
  metadataStrings,
  tensorName,
} from "./gradient-format.ts";
import { pack12 } from "./pack12.ts";
import { quantize } from "./quantize.ts";
import {
  float32Bytes,
  safetensorsHeader,
  type TensorLayout,
  type TensorToWrite,
  writeSafetensors,
} from "./safetensors.ts";
import { selectTopK } from "./topk.ts";

/** Compresses one parameter (its flat float32 values): chunk, optional DCT, top-k, quantize, pack. */
export function compressParam(
  dense: Float32Array,
  layout: ParamLayout,
  compression: CompressionHparams,
): CompressedParam {
  if (dense.length !== layout.numel) {
    throw new EdgeError(
      "ENCODE_INPUT_INVALID",
      `parameter ${layout.name} has ${dense.length} values, the manifest says ${layout.numel}`,
    );
  }
  for (let i = 0; i < dense.length; i++) {
    if (!Number.isFinite(dense[i]))
      throw new EdgeError("NON_FINITE", `parameter ${layout.name} holds a non-finite value at ${i}`);
  }
  const { chunks, totalk, k, h, w } = layout;
  const chunk = new Float64Array(totalk);
  const scratch = new Float64Array(totalk);
  const picked = new Uint16Array(k);
  const indices = new Uint16Array(chunks * k);
  const values = new Float32Array(chunks * k);
  for (let c = 0; c < chunks; c++) {
    gatherChunk(dense, layout, c, chunk);
    if (compression.use_dct) dctChunk(chunk, h, w, scratch);
    selectTopK(chunk, totalk, k, picked, scratch);
    for (let t = 0; t < k; t++) {
      indices[c * k + t] = picked[t];
      values[c * k + t] = chunk[picked[t]];
    }
  }
  const q = quantize(values, compression.quantization_bins, compression.quantization_range);
  return {
    name: layout.name,
    idxs: pack12(indices),
    codes: packCodes(q.codes, chunks, k),
    lookup: q.lookup,
    shift: q.shift,
  };
}

/** Compresses every parameter of a flat vector laid out in manifest order. */
export function compressGradient(
  flat: Float32Array,
  layouts: readonly ParamLayout[],
  compression: CompressionHparams,
): CompressedParam[] {
  const out: CompressedParam[] = [];
  let offset = 0;
  for (const layout of layouts) {
    out.push(compressParam(flat.subarray(offset, offset + layout.numel), layout, compression));
    offset += layout.numel;
  }
  if (offset !== flat.length) {
    throw new EdgeError("ENCODE_INPUT_INVALID", `the flat vector has ${flat.length} values, the manifest ${offset}`);
  }
  return out;
}

/** True if a parameter is long enough to carry a param_sample. */
export function carriesParamSample(layout: ParamLayout, sync: SyncHparams): boolean {
  return layout.numel >= sync.param_sample_offset + sync.param_sample_size;
}

/** The param_sample of a flat parameter vector: elements [offset, offset+size) of each parameter. */
export function sampleParams(
  flat: Float32Array,
  layouts: readonly ParamLayout[],
  sync: SyncHparams,
): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  let offset = 0;
  for (const layout of layouts) {
    if (carriesParamSample(layout, sync)) {
      const from = offset + sync.param_sample_offset;
      out[layout.name] = Array.from(flat.subarray(from, from + sync.param_sample_size));
    }
    offset += layout.numel;
  }
  return out;
}

/** The four tensors of one parameter as a gradient file lays them out (SPEC §4.1). */
function paramTensorLayouts(layout: ParamLayout, bins: number): TensorLayout[] {
  return [
    {
      name: tensorName(layout.name, "idxs"),
      dtype: "U8",
      shape: [...layout.grid, layout.idxBytesPerChunk],
      byteLength: layout.chunks * layout.idxBytesPerChunk,
    },
    {
      name: tensorName(layout.name, "codes"),
      dtype: "U8",
      shape: [...layout.grid, layout.codeBytesPerChunk],
      byteLength: layout.chunks * layout.codeBytesPerChunk,
    },
    { name: tensorName(layout.name, "lookup"), dtype: "F32", shape: [bins], byteLength: bins * 4 },
    { name: tensorName(layout.name, "shift"), dtype: "F32", shape: [], byteLength: 4 },
  ];
}

/** Serializes compressed parameters and their metadata into a gradient file. */
export function writeGradientFile(
  params: readonly CompressedParam[],
  layouts: readonly ParamLayout[],
  metadata: GradientMetadata,
): Uint8Array {
  const tensors: TensorToWrite[] = [];
  params.forEach((p, i) => {
    const layout = layouts[i];
    if (!layout || layout.name !== p.name)
      throw new EdgeError("ENCODE_INPUT_INVALID", `parameter ${p.name} is not at position ${i} of the manifest`);
    const [idxs, codes, lookup, shift] = paramTensorLayouts(layout, p.lookup.length) as [
      TensorLayout,
      TensorLayout,
      TensorLayout,
      TensorLayout,
    ];
    tensors.push(
      { ...idxs, bytes: p.idxs },
      { ...codes, bytes: p.codes },
      { ...lookup, bytes: float32Bytes(p.lookup) },
      { ...shift, bytes: float32Bytes([p.shift]) },
    );
  });
  return writeSafetensors(tensors, metadataStrings(metadata));
}

/** The byte size of the gradient file of `layouts` with `metadata`, and its header's, computed without encoding. */
export function gradientFileSize(
  layouts: readonly ParamLayout[],
  metadata: GradientMetadata,
): { fileBytes: number; headerBytes: number } {
  const bins = metadata.compression.quantization_bins;
  const { json, dataBytes } = safetensorsHeader(
    layouts.flatMap((l) => paramTensorLayouts(l, bins)),
    metadataStrings(metadata),
  );
  return { fileBytes: 8 + json.length + dataBytes, headerBytes: json.length };
}

/** Everything a miner needs to turn a dense pseudo-gradient into upload bytes. */
export interface EncodeRequest {
  readonly identity: GradientIdentity;
  /** The pseudo-gradient, flat, in manifest order. */
  readonly gradient: Float32Array;
  /** The miner's parameters after its last outer step, flat (for param_sample). */
  readonly parameters: Float32Array;
  readonly layouts: readonly ParamLayout[];
  readonly compression: CompressionHparams;
  readonly sync: SyncHparams;
}

/** Compresses a pseudo-gradient and writes the gradient file; also returns the compressed parameters. */
export function encodeGradient(req: EncodeRequest): { file: Uint8Array; params: CompressedParam[] } {
  const params = compressGradient(req.gradient, req.layouts, req.compression);
  const metadata: GradientMetadata = {
    ...req.identity,
    compression: req.compression,
    param_sample: sampleParams(req.parameters, req.layouts, req.sync),
  };
  return { file: writeGradientFile(params, req.layouts, metadata), params };
}
