/**
 * The safetensors container (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON, then the tensor bytes.
 *
 * Only what gradient files and checkpoints use is supported: dtypes U8, BF16 and F32, string-only
 * `__metadata__`.
 * Writing follows the reference library: `__metadata__` first, tensors ordered by descending
 * dtype then name, header padded with spaces to a multiple of 8.
 */

export type Dtype = "U8" | "BF16" | "F32";

export const DTYPE_BYTES: Readonly<Record<Dtype, number>> = { U8: 1, BF16: 2, F32: 4 };

/** The reference implementation sorts tensors by descending dtype (its enum order: F32, BF16, U8), then name. */
const DTYPE_RANK: Readonly<Record<Dtype, number>> = { U8: 0, BF16: 1, F32: 2 };

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** Raw little-endian bytes. */
  readonly bytes: Uint8Array;
}

export interface HeaderEntry {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data_offsets: readonly [number, number];
}

const encoder = new TextEncoder();

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A tensor as the header describes it: everything but its bytes. */
export interface TensorLayout {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly byteLength: number;
}

/**
 * The header (padded JSON, without the 8-byte length) of a file holding `tensors`, their order in
 * the data section, and that section's length: a file's size is known without its bytes.
 */
export function safetensorsHeader<T extends TensorLayout>(
  tensors: readonly T[],
  metadata: Readonly<Record<string, string>>,
): { json: Uint8Array; ordered: T[]; dataBytes: number } {
  const ordered = [...tensors].sort(
    (a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareNames(a.name, b.name),
  );
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of ordered) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  let json = encoder.encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  return { json, ordered, dataBytes: offset };
}

/** Serializes tensors and string metadata into one safetensors file. */
export function writeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata: Readonly<Record<string, string>>,
): Uint8Array {
  const { json, ordered, dataBytes } = safetensorsHeader(
    tensors.map((t) => ({ ...t, byteLength: t.bytes.length })),
    metadata,
  );
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of ordered) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

/** Little-endian float32 bytes of the given values. */
export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

/** Reads little-endian float32 values from bytes at any alignment. */
export function readFloat32(bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * Little-endian bfloat16 bytes of float32 values, rounded to nearest even as torch's
 * `tensor.to(torch.bfloat16)` rounds; NaN stays a (quiet) NaN.
 */
export function bfloat16Bytes(values: Float32Array): Uint8Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] as number;
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0) out[i] = (b >>> 16) | 0x40;
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return new Uint8Array(out.buffer);
}

/** `count` little-endian bfloat16 values widened (exactly) to float32. */
export function readBfloat16(
  bytes: Uint8Array,
  count: number,
  out: Float32Array<ArrayBufferLike> = new Float32Array(count),
  at = 0,
): Float32Array<ArrayBufferLike> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bits = new Uint32Array(out.buffer, out.byteOffset + at * 4, count);
  for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  return out;
}
