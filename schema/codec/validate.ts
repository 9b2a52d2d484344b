/**
 * The strict, streaming validator of gradient files.
 *
 * Feed it the file in pieces of any size with `push`, then call `end`. It reads the header from
 * the first bytes alone, checks every tensor against the model manifest and the hparams, then
 * checks the data chunk by chunk as it streams past. It holds the header plus at most one chunk
 * of carry, whatever the file size, and throws an EdgeError with a stable code at the first fault.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { decodeAddress } from "@polkadot/util-crypto";
import { EdgeError } from "../errors.ts";
import type { CompressionHparams, Hparams } from "../hparams.ts";
import type { ModelManifest } from "../model/manifest.ts";
import { gradientLayout, type ParamLayout } from "./chunking.ts";
import { carriesParamSample } from "./encode.ts";
import type { FormatVersion } from "./format-version.ts";
import {
  type GradientIdentity,
  type GradientMetadata,
  parseMetadata,
  splitTensorName,
  TENSOR_PARTS,
  type TensorPart,
  tensorName,
} from "./gradient-format.ts";
import { checkChunkIndices, indexBytesPerChunk } from "./index-coding.ts";
import { DTYPE_BYTES, type Dtype } from "./safetensors.ts";

export interface ValidationOptions {
  readonly manifest: ModelManifest;
  readonly hparams: Pick<Hparams, "compression" | "limits" | "sync" | "intake">;
  /** The stored size of the file, when known: lets the header be checked against it at once. */
  readonly size?: number;
  /** The signed upload's identity: the metadata must name the same. */
  readonly expect?: Partial<Pick<GradientIdentity, "netuid" | "window" | "uid" | "hotkey">>;
  /** Chunks whose index sets to capture, per parameter (the copy fingerprint sample). */
  readonly fingerprintChunks?: (layout: ParamLayout) => Iterable<number>;
}

/** Absolute byte range of one tensor in the file. */
export interface TensorRange {
  readonly begin: number;
  readonly end: number;
}

export interface ValidationReport {
  readonly metadata: GradientMetadata;
  /** Total bytes of the file. */
  readonly bytes: number;
  /** Length of the JSON header (the file's data starts at 8 + headerLength). */
  readonly headerLength: number;
  /** sha256 (hex) over the tensor data in manifest order: equal for equal tensors whatever the metadata. */
  readonly tensorDigest: string;
  /** Where each tensor's bytes are, by tensor name. */
  readonly tensors: Readonly<Record<string, TensorRange>>;
  /** Captured index sets: parameter → chunk → indices as stored. */
  readonly fingerprint: Readonly<Record<string, Readonly<Record<number, readonly number[]>>>>;
  /** The most bytes the validator held at once: header plus carry, independent of file size. */
  readonly peakBufferedBytes: number;
}

interface Segment {
  readonly name: string;
  readonly part: TensorPart;
  readonly layout: ParamLayout;
  readonly begin: number;
  readonly end: number;
}

const EXPECTED_DTYPE: Readonly<Record<TensorPart, Dtype>> = { idxs: "U8", codes: "U8", lookup: "F32", shift: "F32" };
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** True when two ss58 addresses name the same public key, whatever their prefixes. */
function sameHotkey(a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  try {
    const ka = decodeAddress(a);
    const kb = decodeAddress(b);
    return ka.length === kb.length && ka.every((x, i) => x === kb[i]);
  } catch {
    return a === b; // not ss58: only the same text names the same key
  }
}

function isIndex(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Validates a gradient file streamed in pieces. */
export class GradientValidator {
  readonly #opts: ValidationOptions;
  readonly #compression: CompressionHparams;
  readonly #layouts: Map<string, ParamLayout>;

  #phase: "length" | "header" | "data" | "done" = "length";
  /** The first fault: once failed, every later call throws it again. */
  #failure: EdgeError | undefined;
  #received = 0;
  #peak = 0;

  // length and header
  readonly #lengthBytes = new Uint8Array(8);
  #headerLength = 0;
  #header: Uint8Array | undefined;
  #headerFilled = 0;

  // data
  #metadata: GradientMetadata | undefined;
  /** The file's format version, known once the header is parsed. */
  #version: FormatVersion = 1;
  #segments: Segment[] = [];
  #tensors: Record<string, TensorRange> = {};
  #segment = 0;
  #segmentFilled = 0;
  #carry = new Uint8Array(0);
  #carryFilled = 0;
  #hash = sha256.create();
  readonly #digests = new Map<string, Uint8Array>();
  readonly #floats = new Map<string, Float32Array>();
  #chunk = 0;
  readonly #indices = new Uint16Array(4096);
  readonly #seen = new Int32Array(4096);
  #stamp = 0;
  readonly #capture = new Map<string, Set<number>>();
  readonly #fingerprint: Record<string, Record<number, number[]>> = {};

  constructor(options: ValidationOptions) {
    this.#opts = options;
    this.#compression = options.hparams.compression;
    this.#layouts = new Map(gradientLayout(options.manifest, this.#compression).map((l) => [l.name, l]));
    if (options.fingerprintChunks) {
      for (const layout of this.#layouts.values()) {
        this.#capture.set(layout.name, new Set(options.fingerprintChunks(layout)));
        this.#fingerprint[layout.name] = {};
      }
    }
    this.#hold(8);
  }

  /** Feeds the next piece of the file. Throws an EdgeError at the first fault. */
  push(bytes: Uint8Array): void {
    this.#guard(() => this.#push(bytes));
  }

  /** Declares the end of the file; returns the report or throws TRUNCATED. */
  end(): ValidationReport {
    return this.#guard(() => this.#end());
  }

  #guard<T>(run: () => T): T {
    if (this.#failure) throw this.#failure;
    try {
      return run();
    } catch (e) {
      if (e instanceof EdgeError) this.#failure = e;
      throw e;
    }
  }

  #push(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      switch (this.#phase) {
        case "length":
          at += this.#takeLength(bytes, at);
          break;
        case "header":
          at += this.#takeHeader(bytes, at);
          break;
        case "data":
          at += this.#takeData(bytes, at);
          break;
        case "done":
          throw new EdgeError("TRAILING_BYTES", `the file goes on past its last tensor (byte ${this.#received + at})`);
      }
    }
    this.#received += bytes.length;
  }

  #end(): ValidationReport {
    // A file that ends before 8 + N bytes has no whole header: rule 1 of §4.4, whether or not
    // the stored size was known up front (with it, #startHeader refuses the same file earlier).
    if (this.#phase === "length" || this.#phase === "header") {
      throw new EdgeError(
        "HEADER_LENGTH_INVALID",
        this.#phase === "length"
          ? `the file has ${this.#received} bytes: too short for the 8-byte header length`
          : `header length ${this.#headerLength} runs past the end of a ${this.#received}-byte file`,
      );
    }
    if (this.#phase !== "done" || !this.#metadata) {
      throw new EdgeError(
        "TRUNCATED",
        `the file ends after ${this.#received} bytes, inside its ${this.#phase === "data" ? "tensor data" : this.#phase}`,
      );
    }
    const whole = sha256.create();
    for (const layout of this.#layouts.values()) {
      for (const part of TENSOR_PARTS) whole.update(this.#digests.get(tensorName(layout.name, part)) as Uint8Array);
    }
    return {
      metadata: this.#metadata,
      bytes: this.#received,
      headerLength: this.#headerLength,
      tensorDigest: bytesToHex(whole.digest()),
      tensors: this.#tensors,
      fingerprint: this.#fingerprint,
      peakBufferedBytes: this.#peak,
    };
  }

  #hold(bytes: number): void {
    this.#peak = Math.max(this.#peak, bytes);
  }

  #takeLength(bytes: Uint8Array, at: number): number {
    const filled = this.#received + at;
    const n = Math.min(8 - filled, bytes.length - at);
    this.#lengthBytes.set(bytes.subarray(at, at + n), filled);
    if (filled + n === 8) this.#startHeader();
    return n;
  }

  #startHeader(): void {
    const length = new DataView(this.#lengthBytes.buffer).getBigUint64(0, true);
    const max = this.#opts.hparams.limits.max_header_bytes;
    if (length < 2n || length > BigInt(max)) {
      throw new EdgeError("HEADER_LENGTH_INVALID", `header length ${length} is outside [2, ${max}]`);
    }
    this.#headerLength = Number(length);
    if (this.#opts.size !== undefined && 8 + this.#headerLength > this.#opts.size) {
      throw new EdgeError(
        "HEADER_LENGTH_INVALID",
        `header length ${length} runs past the end of a ${this.#opts.size}-byte file`,
      );
    }
    this.#header = new Uint8Array(this.#headerLength);
    this.#hold(8 + this.#headerLength);
    this.#phase = "header";
  }

  #takeHeader(bytes: Uint8Array, at: number): number {
    const header = this.#header as Uint8Array;
    const n = Math.min(header.length - this.#headerFilled, bytes.length - at);
    header.set(bytes.subarray(at, at + n), this.#headerFilled);
    this.#headerFilled += n;
    if (this.#headerFilled === header.length) {
      this.#checkHeader(header);
      this.#header = undefined;
      this.#phase = this.#segments.length > 0 ? "data" : "done";
    }
    return n;
  }

  #checkHeader(raw: Uint8Array): void {
    let header: unknown;
    try {
      if (raw[0] !== 0x7b) throw new Error("not an object");
      header = JSON.parse(utf8.decode(raw));
    } catch {
      throw new EdgeError("HEADER_JSON_INVALID", "the header is not UTF-8 JSON of an object");
    }
    if (!isRecord(header)) throw new EdgeError("HEADER_JSON_INVALID", "the header is not a JSON object");

    const meta = header.__metadata__;
    if (!isRecord(meta)) throw new EdgeError("METADATA_INVALID", "the header has no __metadata__ object");
    for (const [key, value] of Object.entries(meta)) {
      if (typeof value !== "string") throw new EdgeError("METADATA_INVALID", `__metadata__.${key} is not a string`);
    }
    const metadata = parseMetadata(meta as Record<string, string>, this.#opts.hparams.intake.format_versions);
    this.#version = metadata.format_version;
    this.#checkCompression(metadata.compression);
    this.#checkIdentity(metadata);
    this.#checkParamSample(metadata.param_sample);

    const seen = new Set<string>();
    const segments: Segment[] = [];
    for (const [name, entry] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      segments.push(this.#checkEntry(name, entry));
      seen.add(name);
    }
    for (const layout of this.#layouts.values()) {
      for (const part of TENSOR_PARTS) {
        const name = tensorName(layout.name, part);
        if (!seen.has(name)) throw new EdgeError("TENSOR_MISSING", `tensor ${name} is missing`);
      }
    }
    this.#checkLayout(segments);
    this.#metadata = metadata;
  }

  #checkCompression(got: CompressionHparams): void {
    const want = this.#compression;
    for (const key of Object.keys(want) as (keyof CompressionHparams)[]) {
      if (got[key] !== want[key]) {
        throw new EdgeError(
          "COMPRESSION_MISMATCH",
          `__metadata__.${key} is ${got[key]}, this validator uses ${want[key]}`,
        );
      }
    }
  }

  #checkIdentity(metadata: GradientMetadata): void {
    const expect = this.#opts.expect ?? {};
    for (const key of ["netuid", "window", "uid", "hotkey"] as const) {
      const want = expect[key];
      const same = key === "hotkey" ? sameHotkey(metadata.hotkey, want as string) : metadata[key] === want;
      if (want !== undefined && !same) {
        throw new EdgeError(
          "METADATA_MISMATCH",
          `__metadata__.${key} is ${metadata[key]}, the signed upload says ${want}`,
        );
      }
    }
  }

  #checkParamSample(sample: Readonly<Record<string, unknown>>): void {
    const sync = this.#opts.hparams.sync;
    for (const name of Object.keys(sample)) {
      const layout = this.#layouts.get(name);
      if (!layout || !carriesParamSample(layout, sync)) {
        throw new EdgeError(
          "PARAM_SAMPLE_INVALID",
          `param_sample names ${JSON.stringify(name)}, which carries no sample`,
        );
      }
    }
    for (const layout of this.#layouts.values()) {
      if (!carriesParamSample(layout, sync)) continue;
      const values = sample[layout.name];
      if (
        !Array.isArray(values) ||
        values.length !== sync.param_sample_size ||
        !values.every((v) => typeof v === "number" && Number.isFinite(v))
      ) {
        throw new EdgeError(
          "PARAM_SAMPLE_INVALID",
          `param_sample.${layout.name} must be ${sync.param_sample_size} finite numbers`,
        );
      }
    }
  }

  #checkEntry(name: string, entry: unknown): Segment {
    if (
      !isRecord(entry) ||
      typeof entry.dtype !== "string" ||
      !Array.isArray(entry.shape) ||
      !entry.shape.every(isIndex) ||
      !Array.isArray(entry.data_offsets) ||
      entry.data_offsets.length !== 2 ||
      !entry.data_offsets.every(isIndex) ||
      entry.data_offsets[0] > entry.data_offsets[1]
    ) {
      throw new EdgeError(
        "HEADER_ENTRY_INVALID",
        `tensor ${name} needs a dtype string, a shape and data_offsets [begin, end]`,
      );
    }
    const split = splitTensorName(name);
    const layout = split && this.#layouts.get(split.param);
    if (!split || !layout)
      throw new EdgeError("TENSOR_UNEXPECTED", `tensor ${name} is not part of a manifest parameter`);
    const { part } = split;
    const dtype = EXPECTED_DTYPE[part];
    if (entry.dtype !== dtype)
      throw new EdgeError("DTYPE_INVALID", `tensor ${name} is ${entry.dtype}, expected ${dtype}`);
    const shape = entry.shape as number[];
    this.#checkShape(name, part, shape, layout);
    const [begin, end] = entry.data_offsets as [number, number];
    const size = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== size) {
      throw new EdgeError(
        "LAYOUT_INVALID",
        `tensor ${name} spans ${end - begin} bytes, its dtype and shape need ${size}`,
      );
    }
    return { name, part, layout, begin, end };
  }

  #checkShape(name: string, part: TensorPart, shape: readonly number[], layout: ParamLayout): void {
    if (part === "shift") {
      if (shape.length !== 0) throw new EdgeError("SHAPE_MISMATCH", `tensor ${name} must be a scalar (shape [])`);
      return;
    }
    if (part === "lookup") {
      if (shape.length !== 1) throw new EdgeError("SHAPE_MISMATCH", `tensor ${name} must be 1-D`);
      const bins = this.#compression.quantization_bins;
      if (shape[0] !== bins)
        throw new EdgeError("LOOKUP_LENGTH_INVALID", `tensor ${name} holds ${shape[0]} values, expected ${bins}`);
      return;
    }
    const grid = layout.grid;
    if (shape.length !== grid.length + 1) {
      throw new EdgeError("SHAPE_MISMATCH", `tensor ${name} has rank ${shape.length}, expected ${grid.length + 1}`);
    }
    for (let d = 0; d < grid.length; d++) {
      if (shape[d] !== grid[d]) {
        throw new EdgeError(
          "LEADING_DIMS_MISMATCH",
          `tensor ${name} has chunk grid [${shape.slice(0, -1)}], expected [${grid}]`,
        );
      }
    }
    const last = part === "idxs" ? indexBytesPerChunk(layout, this.#version) : layout.codeBytesPerChunk;
    if (shape[grid.length] !== last) {
      throw new EdgeError(
        "TOPK_MISMATCH",
        `tensor ${name} has ${shape[grid.length]} bytes per chunk, expected ${last} for k = ${layout.k}`,
      );
    }
  }

  #checkLayout(segments: Segment[]): void {
    segments.sort((a, b) => a.begin - b.begin || a.end - b.end);
    let at = 0;
    let unit = 4;
    for (const s of segments) {
      if (s.begin !== at) {
        throw new EdgeError(
          "LAYOUT_INVALID",
          `tensor ${s.name} starts at ${s.begin}; the previous tensor ends at ${at} (holes and overlaps are refused)`,
        );
      }
      at = s.end;
      this.#tensors[s.name] = { begin: 8 + this.#headerLength + s.begin, end: 8 + this.#headerLength + s.end };
      unit = Math.max(
        unit,
        indexBytesPerChunk(s.layout, this.#version),
        s.layout.codeBytesPerChunk,
        4 * this.#compression.quantization_bins,
      );
    }
    const size = this.#opts.size;
    const total = 8 + this.#headerLength + at;
    if (size !== undefined && size < total)
      throw new EdgeError("TRUNCATED", `the header describes ${total} bytes, the file has ${size}`);
    if (size !== undefined && size > total)
      throw new EdgeError("TRAILING_BYTES", `the header describes ${total} bytes, the file has ${size}`);
    this.#segments = segments;
    this.#carry = new Uint8Array(unit);
    this.#hold(8 + this.#headerLength + unit);
    this.#beginSegment();
  }

  #beginSegment(): void {
    this.#segmentFilled = 0;
    this.#carryFilled = 0;
    this.#chunk = 0;
    this.#hash = sha256.create();
  }

  /** Bytes of one processing unit of a segment: a chunk of indices or codes, or the whole float tensor. */
  #unit(s: Segment): number {
    return s.part === "idxs"
      ? indexBytesPerChunk(s.layout, this.#version)
      : s.part === "codes"
        ? s.layout.codeBytesPerChunk
        : s.end - s.begin;
  }

  #takeData(bytes: Uint8Array, at: number): number {
    const s = this.#segments[this.#segment] as Segment;
    const n = Math.min(s.end - s.begin - this.#segmentFilled, bytes.length - at);
    const piece = bytes.subarray(at, at + n);
    this.#hash.update(piece);
    const unit = this.#unit(s);
    let p = 0;
    if (this.#carryFilled > 0) {
      const take = Math.min(unit - this.#carryFilled, n);
      this.#carry.set(piece.subarray(0, take), this.#carryFilled);
      this.#carryFilled += take;
      p = take;
      if (this.#carryFilled === unit) {
        this.#checkUnit(s, this.#carry, 0);
        this.#carryFilled = 0;
      }
    }
    for (; p + unit <= n; p += unit) this.#checkUnit(s, piece, p);
    if (p < n) {
      this.#carry.set(piece.subarray(p), 0);
      this.#carryFilled = n - p;
    }
    this.#segmentFilled += n;
    if (this.#segmentFilled === s.end - s.begin) this.#endSegment(s);
    return n;
  }

  #endSegment(s: Segment): void {
    this.#digests.set(s.name, this.#hash.digest());
    if (s.part === "lookup" || s.part === "shift") this.#checkDecodedValues(s.layout);
    this.#segment++;
    if (this.#segment === this.#segments.length) this.#phase = "done";
    else this.#beginSegment();
  }

  #checkUnit(s: Segment, bytes: Uint8Array, from: number): void {
    switch (s.part) {
      case "idxs":
        this.#checkIndices(s, bytes, from);
        break;
      case "codes":
        this.#checkCodes(s, bytes, from);
        break;
      default:
        this.#checkFloats(s, bytes, from);
    }
    this.#chunk++;
  }

  #checkIndices(s: Segment, bytes: Uint8Array, from: number): void {
    const { k } = s.layout;
    const idx = this.#indices;
    const where = `tensor ${s.name}, chunk ${this.#chunk}`;
    checkChunkIndices(bytes, from, s.layout, this.#version, idx, this.#seen, ++this.#stamp, where);
    if (this.#capture.get(s.layout.name)?.has(this.#chunk)) {
      (this.#fingerprint[s.layout.name] as Record<number, number[]>)[this.#chunk] = Array.from(idx.subarray(0, k));
    }
  }

  #checkCodes(s: Segment, bytes: Uint8Array, from: number): void {
    const { k, codeBytesPerChunk } = s.layout;
    const bins = this.#compression.quantization_bins;
    const tail = k & 3; // codes in the last byte, 0 meaning a full byte
    if (bins >= 4 && tail === 0) return; // every 2-bit code is a valid bin and no padding exists
    for (let b = 0; b < codeBytesPerChunk; b++) {
      const byte = bytes[from + b];
      const used = b === codeBytesPerChunk - 1 && tail !== 0 ? tail : 4;
      for (let q = 0; q < 4; q++) {
        const code = (byte >> (q << 1)) & 3;
        if (q >= used ? code !== 0 : code >= bins) {
          const what = q >= used ? "padding bits are not zero" : `code ${code} is not below ${bins} bins`;
          throw new EdgeError("CODE_OUT_OF_RANGE", `tensor ${s.name}, chunk ${this.#chunk}: ${what}`);
        }
      }
    }
  }

  #checkFloats(s: Segment, bytes: Uint8Array, from: number): void {
    const count = (s.end - s.begin) / 4;
    const view = new DataView(bytes.buffer, bytes.byteOffset + from, count * 4);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      values[i] = view.getFloat32(i * 4, true);
      if (!Number.isFinite(values[i])) throw new EdgeError("NON_FINITE", `tensor ${s.name} holds ${values[i]}`);
    }
    this.#floats.set(s.name, values);
  }

  /** Once a parameter's lookup and shift are both in: each decoded value lookup[b] + shift is a finite float32. */
  #checkDecodedValues(layout: ParamLayout): void {
    const lookup = this.#floats.get(tensorName(layout.name, "lookup"));
    const shift = this.#floats.get(tensorName(layout.name, "shift"));
    if (!lookup || !shift) return;
    for (const v of lookup) {
      if (!Number.isFinite(Math.fround(v + shift[0]))) {
        throw new EdgeError(
          "NON_FINITE",
          `parameter ${layout.name}: lookup ${v} + shift ${shift[0]} overflows float32`,
        );
      }
    }
    this.#floats.delete(tensorName(layout.name, "lookup"));
    this.#floats.delete(tensorName(layout.name, "shift"));
  }
}

/** Validates a whole file held in memory. */
export function validateGradient(bytes: Uint8Array, options: ValidationOptions): ValidationReport {
  const v = new GradientValidator({ ...options, size: options.size ?? bytes.length });
  v.push(bytes);
  return v.end();
}

/** Validates a file arriving as a stream (a fetch or R2 body, a Node file stream). */
export async function validateGradientStream(
  stream: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  options: ValidationOptions,
): Promise<ValidationReport> {
  const v = new GradientValidator(options);
  if ("getReader" in stream) {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      v.push(value);
    }
  } else {
    for await (const piece of stream) v.push(piece);
  }
  return v.end();
}
