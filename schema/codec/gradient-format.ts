/**
 * The gradient file of templar-edge, format versions 1 and 2 (docs/SPEC.md, "The gradient file").
 *
 * Per parameter `p` of the model manifest, four tensors:
 *   p.idxs    U8  [...grid, B]         each chunk's indices: B = 3k/2 (v1, 12-bit packed) or
 *                                      the Elias-Fano size (v2, 64 at top-64 of 4096)
 *   p.codes   U8  [...grid, ceil(k/4)] 2-bit quantization codes, four per byte
 *   p.lookup  F32 [bins]               value of each code, before the shift
 *   p.shift   F32 []                   added to every decoded value
 * and string-only `__metadata__` naming the upload and the compression settings.
 */
import { EdgeError } from "../errors.ts";
import type { CompressionHparams } from "../hparams.ts";
import { FORMAT_VERSIONS, type FormatVersion } from "./format-version.ts";

export const GRADIENT_FORMAT = "templar-edge.gradient";

export const TENSOR_PARTS = ["idxs", "codes", "lookup", "shift"] as const;
export type TensorPart = (typeof TENSOR_PARTS)[number];

/** One parameter of a gradient, still compressed: the bytes of its four tensors. */
export interface CompressedParam {
  readonly name: string;
  /** How `idxs` codes each chunk's indices. */
  readonly formatVersion: FormatVersion;
  /** chunks × (bytes per chunk of the version). */
  readonly idxs: Uint8Array;
  /** chunks × ceil(k/4) bytes. */
  readonly codes: Uint8Array;
  readonly lookup: Float32Array;
  readonly shift: number;
}

/** Who uploaded a gradient, for which window, from which base checkpoint. */
export interface GradientIdentity {
  readonly netuid: number;
  readonly window: number;
  readonly uid: number;
  /** ss58 address of the miner's hotkey. */
  readonly hotkey: string;
  /** The window whose checkpoint θ the miner trained from. */
  readonly base_window: number;
  /** Optional data receipt: blake2b-128 hex of the sample ids trained on, and their count. */
  readonly sample_digest?: string;
  readonly sample_count?: number;
}

/** Everything `__metadata__` holds, parsed. */
export interface GradientMetadata extends GradientIdentity {
  readonly format_version: FormatVersion;
  readonly compression: CompressionHparams;
  /** Elements [offset, offset+size) of each parameter after the miner's last outer step. */
  readonly param_sample: Readonly<Record<string, readonly number[]>>;
}

/** `p.part` for a parameter and part. */
export function tensorName(param: string, part: TensorPart): string {
  return `${param}.${part}`;
}

/** Splits "p.part" at its last dot; undefined if the suffix is not a known part. */
export function splitTensorName(name: string): { param: string; part: TensorPart } | undefined {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const part = name.slice(dot + 1);
  return (TENSOR_PARTS as readonly string[]).includes(part)
    ? { param: name.slice(0, dot), part: part as TensorPart }
    : undefined;
}

/** The `__metadata__` strings of a gradient. */
export function metadataStrings(meta: GradientMetadata): Record<string, string> {
  const c = meta.compression;
  const out: Record<string, string> = {
    format: GRADIENT_FORMAT,
    format_version: String(meta.format_version),
    netuid: String(meta.netuid),
    window: String(meta.window),
    uid: String(meta.uid),
    hotkey: meta.hotkey,
    base_window: String(meta.base_window),
    target_chunk: String(c.target_chunk),
    topk_compression: String(c.topk_compression),
    quantization_bins: String(c.quantization_bins),
    quantization_range: String(c.quantization_range),
    use_dct: String(c.use_dct),
    param_sample: JSON.stringify(meta.param_sample),
  };
  if (meta.sample_digest !== undefined) out.sample_digest = meta.sample_digest;
  if (meta.sample_count !== undefined) out.sample_count = String(meta.sample_count);
  return out;
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;
const HEX32 = /^[0-9a-f]{32}$/;
/** JSON's number grammar (RFC 8259 §6); the value it denotes is what is compared. */
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

function required(meta: Readonly<Record<string, string>>, key: string): string {
  const v = meta[key];
  if (v === undefined) throw new EdgeError("METADATA_INVALID", `__metadata__ lacks "${key}"`);
  return v;
}

function decimal(meta: Readonly<Record<string, string>>, key: string): number {
  const v = required(meta, key);
  const n = Number(v);
  if (!DECIMAL.test(v) || !Number.isSafeInteger(n)) {
    throw new EdgeError(
      "METADATA_INVALID",
      `__metadata__.${key} must be a non-negative decimal integer, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

function realNumber(meta: Readonly<Record<string, string>>, key: string): number {
  const v = required(meta, key);
  if (!NUMBER.test(v))
    throw new EdgeError("METADATA_INVALID", `__metadata__.${key} must be a number, got ${JSON.stringify(v)}`);
  return Number(v);
}

function boolean(meta: Readonly<Record<string, string>>, key: string): boolean {
  const v = required(meta, key);
  if (v !== "true" && v !== "false")
    throw new EdgeError("METADATA_INVALID", `__metadata__.${key} must be "true" or "false"`);
  return v === "true";
}

/**
 * Parses `__metadata__` (already known to be an object of strings) into GradientMetadata.
 * Checks format and version (one of `accepted`) first, then every key's syntax; the param_sample
 * JSON is parsed but checked against the manifest by the validator.
 */
export function parseMetadata(
  meta: Readonly<Record<string, string>>,
  accepted: readonly FormatVersion[] = FORMAT_VERSIONS,
): GradientMetadata {
  const version = FORMAT_VERSIONS.find((v) => String(v) === meta.format_version);
  if (meta.format !== GRADIENT_FORMAT || version === undefined || !accepted.includes(version)) {
    throw new EdgeError(
      "FORMAT_VERSION_UNSUPPORTED",
      `expected format ${GRADIENT_FORMAT} version ${accepted.join(" or ")}, got ${JSON.stringify(meta.format)} version ${JSON.stringify(meta.format_version)}`,
    );
  }
  const hotkey = required(meta, "hotkey");
  if (hotkey.length === 0 || hotkey.length > 64)
    throw new EdgeError("METADATA_INVALID", "__metadata__.hotkey must be an ss58 address");
  const compression: CompressionHparams = {
    target_chunk: decimal(meta, "target_chunk"),
    topk_compression: decimal(meta, "topk_compression"),
    quantization_bins: decimal(meta, "quantization_bins"),
    quantization_range: realNumber(meta, "quantization_range"),
    use_dct: boolean(meta, "use_dct"),
  };
  let sampleDigest: string | undefined;
  if (meta.sample_digest !== undefined) {
    if (!HEX32.test(meta.sample_digest))
      throw new EdgeError("METADATA_INVALID", "__metadata__.sample_digest must be 32 lowercase hex digits");
    sampleDigest = meta.sample_digest;
  }
  let paramSample: unknown;
  try {
    paramSample = JSON.parse(required(meta, "param_sample"));
  } catch {
    throw new EdgeError("PARAM_SAMPLE_INVALID", "__metadata__.param_sample is not JSON");
  }
  if (typeof paramSample !== "object" || paramSample === null || Array.isArray(paramSample)) {
    throw new EdgeError("PARAM_SAMPLE_INVALID", "__metadata__.param_sample must be a JSON object");
  }
  const window = decimal(meta, "window");
  const baseWindow = decimal(meta, "base_window");
  // θ of a later window does not exist while S is trained: a miner trains from θ_S or an older one.
  if (baseWindow > window)
    throw new EdgeError("METADATA_INVALID", `__metadata__.base_window ${baseWindow} is after the window ${window}`);
  return {
    format_version: version,
    netuid: decimal(meta, "netuid"),
    window,
    uid: decimal(meta, "uid"),
    hotkey,
    base_window: baseWindow,
    ...(sampleDigest !== undefined ? { sample_digest: sampleDigest } : {}),
    ...(meta.sample_count !== undefined ? { sample_count: decimal(meta, "sample_count") } : {}),
    compression,
    param_sample: paramSample as Record<string, readonly number[]>,
  };
}
