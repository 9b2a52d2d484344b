/**
 * Miner side: dense pseudo-gradient → compressed parameters → gradient file bytes.
 */
import { EdgeError } from "../errors.ts";
import type { CompressionHparams, SyncHparams } from "../hparams.ts";
import type { ParamLayout } from "./chunking.ts";
import { packCodes } from "./codes2bit.ts";
import { type FormatVersion, LATEST_FORMAT_VERSION } from "./format-version.ts";
import {
  type CompressedParam,
  type GradientIdentity,
  type GradientMetadata,
  metadataStrings,
  tensorName,
} from "./gradient-format.ts";
import { indexBytesPerChunk, packIndices } from "./index-coding.ts";
import { quantize } from "./quantize.ts";
import {
  float32Bytes,
  safetensorsHeader,
  type TensorLayout,
  type TensorToWrite,
  writeSafetensors,
} from "./safetensors.ts";
import { selectChunks } from "./topk.ts";

/** Compresses one parameter (its flat float32 values): chunk, optional DCT, top-k, quantize, pack. */
export function compressParam(
  dense: Float32Array,
  layout: ParamLayout,
  compression: CompressionHparams,
  version: FormatVersion = LATEST_FORMAT_VERSION,
): CompressedParam {
  if (dense.length !== layout.numel) {
    throw new EdgeError(
      "ENCODE_INPUT_INVALID",
      `parameter ${layout.name} has ${dense.length} values, the manifest says ${layout.numel}`,
    );
  }
  const selected = selectedBuffers(layout);
  selectChunks(dense, layout, compression.use_dct, selected.indices, selected.values, 0, layout.chunks);
  return finishParam(layout, selected.indices, selected.values, compression, version);
}

/** Room for one parameter's selection: chunks × k indices and their values. */
export function selectedBuffers(layout: ParamLayout): { indices: Uint16Array; values: Float32Array } {
  return { indices: new Uint16Array(layout.chunks * layout.k), values: new Float32Array(layout.chunks * layout.k) };
}

/**
 * The second half of compressing a parameter, once every chunk's top-k is selected (`indices`
 * ascending within each chunk, `values` theirs): quantize all values at once, pack the codes,
 * code the indices in `version`. Sequential on purpose: the quantizer's sums run in one order.
 */
export function finishParam(
  layout: ParamLayout,
  indices: Uint16Array,
  values: Float32Array,
  compression: CompressionHparams,
  version: FormatVersion,
): CompressedParam {
  const q = quantize(values, compression.quantization_bins, compression.quantization_range);
  return {
    name: layout.name,
    formatVersion: version,
    idxs: packIndices(indices, layout, version),
    codes: packCodes(q.codes, layout.chunks, layout.k),
    lookup: q.lookup,
    shift: q.shift,
  };
}

/** Compresses every parameter of a flat vector laid out in manifest order. */
export function compressGradient(
  flat: Float32Array,
  layouts: readonly ParamLayout[],
  compression: CompressionHparams,
  version: FormatVersion = LATEST_FORMAT_VERSION,
): CompressedParam[] {
  const out: CompressedParam[] = [];
  let offset = 0;
  for (const layout of layouts) {
    out.push(compressParam(flat.subarray(offset, offset + layout.numel), layout, compression, version));
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

/** The four tensors of one parameter as a gradient file of `version` lays them out (SPEC §4.1). */
function paramTensorLayouts(layout: ParamLayout, bins: number, version: FormatVersion): TensorLayout[] {
  const idxBytes = indexBytesPerChunk(layout, version);
  return [
    {
      name: tensorName(layout.name, "idxs"),
      dtype: "U8",
      shape: [...layout.grid, idxBytes],
      byteLength: layout.chunks * idxBytes,
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

/** What a writer supplies of `__metadata__`: everything but the version, which the parameters' coding sets. */
export type MetadataToWrite = Omit<GradientMetadata, "format_version">;

/** Serializes compressed parameters (all of one format version) and their metadata into a gradient file. */
export function writeGradientFile(
  params: readonly CompressedParam[],
  layouts: readonly ParamLayout[],
  metadata: MetadataToWrite,
): Uint8Array {
  const version = params[0]?.formatVersion ?? LATEST_FORMAT_VERSION;
  const tensors: TensorToWrite[] = [];
  params.forEach((p, i) => {
    const layout = layouts[i];
    if (!layout || layout.name !== p.name)
      throw new EdgeError("ENCODE_INPUT_INVALID", `parameter ${p.name} is not at position ${i} of the manifest`);
    if (p.formatVersion !== version)
      throw new EdgeError(
        "ENCODE_INPUT_INVALID",
        `parameter ${p.name} is coded in version ${p.formatVersion}, not ${version}`,
      );
    const [idxs, codes, lookup, shift] = paramTensorLayouts(layout, p.lookup.length, version) as [
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
  return writeSafetensors(tensors, metadataStrings({ ...metadata, format_version: version }));
}

/** The byte size of the gradient file of `layouts` with `metadata`, and its header's, computed without encoding. */
export function gradientFileSize(
  layouts: readonly ParamLayout[],
  metadata: MetadataToWrite,
  version: FormatVersion = LATEST_FORMAT_VERSION,
): { fileBytes: number; headerBytes: number } {
  const bins = metadata.compression.quantization_bins;
  const { json, dataBytes } = safetensorsHeader(
    layouts.flatMap((l) => paramTensorLayouts(l, bins, version)),
    metadataStrings({ ...metadata, format_version: version }),
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
  /** The format to write; the latest unless given. */
  readonly formatVersion?: FormatVersion;
}

/** Compresses a pseudo-gradient and writes the gradient file; also returns the compressed parameters. */
export function encodeGradient(req: EncodeRequest): { file: Uint8Array; params: CompressedParam[] } {
  const params = compressGradient(req.gradient, req.layouts, req.compression, req.formatVersion);
  return { file: writeGradientFile(params, req.layouts, encodeMetadata(req)), params };
}

/** The metadata of an encode request's file (its version comes from the coded parameters). */
export function encodeMetadata(req: EncodeRequest): MetadataToWrite {
  return {
    ...req.identity,
    compression: req.compression,
    param_sample: sampleParams(req.parameters, req.layouts, req.sync),
  };
}
