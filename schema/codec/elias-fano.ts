/**
 * Elias-Fano coding of one chunk's index set (format version 2; docs/SPEC.md §3.5).
 *
 * k distinct indices below totalk, ascending, x_0 < … < x_{k−1}. With L low bits each
 * (the largest L with k·2^L ≤ totalk):
 *   upper part: ceil(U/8) bytes, U = ((totalk − 1) >> L) + k bits; bit (x_t >> L) + t is set
 *               for every t, and no other;
 *   low part:   ceil(k·L/8) bytes; bits [t·L, t·L + L) hold x_t & (2^L − 1).
 * Bit b of a part is bit (b & 7) of its byte b >> 3 (least significant first); unused bits of
 * each part's last byte are zero. Upper part first, then low part.
 *
 * Every set of k indices has exactly one coding and every coding one set, so equal sets give
 * equal bytes (copy detection compares them), and the bytes of a chunk have a fixed length, so
 * a chunk is still read on its own with one ranged read. At totalk = 4096, k = 64: L = 6, 16 + 48
 * = 64 bytes, against 96 for 12-bit packing and log2 C(4096, 64)/8 ≈ 59 for the ideal code.
 */
import { EdgeError } from "../errors.ts";

/** The shape of one chunk's coding. */
export interface EliasFanoShape {
  readonly totalk: number;
  readonly k: number;
  /** Low bits per index. */
  readonly lowBits: number;
  /** Bits of the upper part. */
  readonly upperBits: number;
  readonly upperBytes: number;
  readonly lowBytes: number;
  /** upperBytes + lowBytes. */
  readonly bytes: number;
}

/** The coding shape for k indices below totalk (1 ≤ k ≤ totalk). */
export function eliasFanoShape(totalk: number, k: number): EliasFanoShape {
  let lowBits = 0;
  while (k * 2 ** (lowBits + 1) <= totalk) lowBits++;
  const upperBits = ((totalk - 1) >> lowBits) + k;
  const upperBytes = Math.ceil(upperBits / 8);
  const lowBytes = Math.ceil((k * lowBits) / 8);
  return { totalk, k, lowBits, upperBits, upperBytes, lowBytes, bytes: upperBytes + lowBytes };
}

/**
 * Writes the coding of indices[from … from+k) (ascending, distinct, below totalk: the caller's
 * promise) into out[at … at+shape.bytes), which must be zero.
 */
export function encodeEliasFano(
  indices: ArrayLike<number>,
  from: number,
  shape: EliasFanoShape,
  out: Uint8Array,
  at: number,
): void {
  const { k, lowBits, upperBytes } = shape;
  const mask = (1 << lowBits) - 1;
  const low = at + upperBytes;
  for (let t = 0; t < k; t++) {
    const x = indices[from + t] as number;
    const u = (x >> lowBits) + t;
    out[at + (u >> 3)] |= 1 << (u & 7);
    if (lowBits === 0) continue;
    const bit = t * lowBits;
    // A field of lowBits ≤ 11 bits starting at bit (bit & 7) ≤ 7 ends within three bytes.
    const v = (x & mask) << (bit & 7);
    const byte = low + (bit >> 3);
    out[byte] |= v & 0xff;
    if (v > 0xff) out[byte + 1] |= v >> 8;
    if (v > 0xffff) out[byte + 2] |= v >> 16;
  }
}

/** The low bits of index t, read from the low part starting at `low`. */
function lowOf(bytes: Uint8Array, low: number, t: number, lowBits: number, mask: number): number {
  const bit = t * lowBits;
  const byte = low + (bit >> 3);
  // Three bytes cover any 12-bit field at any bit offset; bytes past the end read as 0.
  const window = (bytes[byte] as number) | ((bytes[byte + 1] ?? 0) << 8) | ((bytes[byte + 2] ?? 0) << 16);
  return (window >> (bit & 7)) & mask;
}

/**
 * Decodes one chunk (bytes[at …]) into out[to … to+k), ascending. No checks: for files the
 * validator has accepted.
 */
export function decodeEliasFano(
  bytes: Uint8Array,
  at: number,
  shape: EliasFanoShape,
  out: Uint16Array | Int32Array,
  to: number,
): void {
  const { lowBits, k } = shape;
  if ((lowBits === 6 || lowBits === 4 || lowBits === 2) && k % 4 === 0) {
    decodeByFours(bytes, at, shape, out, to);
    return;
  }
  // Low fields that tile 24 bits (L = 1, 2, 3, 4, 6, 8, 12; 6 at 64×64 chunks, top-64) never
  // straddle a 3-byte group, so they come out of the group with fixed shifts, before the
  // upper part is merged in; other widths take one pass with a bit buffer.
  if (lowBits !== 0 && 24 % lowBits === 0) {
    lowFieldsByGroups(bytes, at + shape.upperBytes, shape, out, to);
    mergeUpperPart(bytes, at, shape, out, to);
  } else if (lowBits === 7) {
    lowFieldsOf7(bytes, at + shape.upperBytes, shape, out, to);
    mergeUpperPart(bytes, at, shape, out, to);
  } else decodeInOnePass(bytes, at, shape, out, to);
}

/**
 * out[to + t] = low field t for L = 7 (64×64 chunks at top-32): eight fields in each 7 bytes,
 * four from the first 4 bytes and four from the 28 bits after; a bit buffer for the rest.
 */
function lowFieldsOf7(
  bytes: Uint8Array,
  low: number,
  shape: EliasFanoShape,
  out: Uint16Array | Int32Array,
  to: number,
): void {
  const { k } = shape;
  let q = low;
  let t = 0;
  for (; t + 8 <= k; t += 8, q += 7) {
    const b3 = bytes[q + 3] as number;
    const first =
      (bytes[q] as number) | ((bytes[q + 1] as number) << 8) | ((bytes[q + 2] as number) << 16) | (b3 << 24);
    const second =
      (b3 >> 4) | ((bytes[q + 4] as number) << 4) | ((bytes[q + 5] as number) << 12) | ((bytes[q + 6] as number) << 20);
    out[to + t] = first & 127;
    out[to + t + 1] = (first >>> 7) & 127;
    out[to + t + 2] = (first >>> 14) & 127;
    out[to + t + 3] = (first >>> 21) & 127;
    out[to + t + 4] = second & 127;
    out[to + t + 5] = (second >>> 7) & 127;
    out[to + t + 6] = (second >>> 14) & 127;
    out[to + t + 7] = second >>> 21;
  }
  let buffer = 0;
  let buffered = 0;
  for (; t < k; t++) {
    while (buffered < 7) {
      buffer |= (bytes[q++] as number) << buffered;
      buffered += 8;
    }
    out[to + t] = buffer & 127;
    buffer >>>= 7;
    buffered -= 7;
  }
}

/**
 * One pass, four indices at a time, for L = 2, 4 or 6 (16×16 and 64×64 chunks at top-64): the
 * four low fields fill L/2 whole bytes, the next four set bits of the upper part give the high
 * parts, and each index is written once.
 */
function decodeByFours(
  bytes: Uint8Array,
  at: number,
  shape: EliasFanoShape,
  out: Uint16Array | Int32Array,
  to: number,
): void {
  const { k, lowBits, upperBytes } = shape;
  const mask = (1 << lowBits) - 1;
  const groupBytes = lowBits >> 1;
  let q = at + upperBytes;
  let b = 0;
  let word = upperWord(bytes, at, 0, upperBytes);
  // base − clz32(lowest set bit) is that bit's position in the upper part.
  let base = 31;
  for (let t = 0; t < k; t += 4, q += groupBytes) {
    const group =
      lowBits === 2
        ? (bytes[q] as number)
        : lowBits === 4
          ? (bytes[q] as number) | ((bytes[q + 1] as number) << 8)
          : (bytes[q] as number) | ((bytes[q + 1] as number) << 8) | ((bytes[q + 2] as number) << 16);
    // Unrolled by hand: a loop over the four costs a quarter of the time here.
    // Past the upper part (a coding the validator would refuse) every bit reads as set: the loop still ends.
    while (word === 0) {
      b += 4;
      base += 32;
      word = b < upperBytes ? upperWord(bytes, at, b, upperBytes) : -1;
    }
    out[to + t] = ((base - Math.clz32(word & -word) - t) << lowBits) | (group & mask);
    word &= word - 1;
    while (word === 0) {
      b += 4;
      base += 32;
      word = b < upperBytes ? upperWord(bytes, at, b, upperBytes) : -1;
    }
    out[to + t + 1] = ((base - Math.clz32(word & -word) - t - 1) << lowBits) | ((group >>> lowBits) & mask);
    word &= word - 1;
    while (word === 0) {
      b += 4;
      base += 32;
      word = b < upperBytes ? upperWord(bytes, at, b, upperBytes) : -1;
    }
    out[to + t + 2] = ((base - Math.clz32(word & -word) - t - 2) << lowBits) | ((group >>> (2 * lowBits)) & mask);
    word &= word - 1;
    while (word === 0) {
      b += 4;
      base += 32;
      word = b < upperBytes ? upperWord(bytes, at, b, upperBytes) : -1;
    }
    out[to + t + 3] = ((base - Math.clz32(word & -word) - t - 3) << lowBits) | ((group >>> (3 * lowBits)) & mask);
    word &= word - 1;
  }
}

/** out[to + t] = low field t, for L dividing 24: whole 3-byte groups, then a bit buffer for the rest. */
function lowFieldsByGroups(
  bytes: Uint8Array,
  low: number,
  shape: EliasFanoShape,
  out: Uint16Array | Int32Array,
  to: number,
): void {
  const { k, lowBits } = shape;
  const mask = (1 << lowBits) - 1;
  const per = 24 / lowBits;
  let q = low;
  let t = 0;
  // L = 2, 4 and 6 with k a multiple of 4, the usual shapes, go to decodeByFours instead.
  for (; t + per <= k; t += per, q += 3) {
    let group = (bytes[q] as number) | ((bytes[q + 1] as number) << 8) | ((bytes[q + 2] as number) << 16);
    for (let e = 0; e < per; e++, group >>>= lowBits) out[to + t + e] = group & mask;
  }
  // The last fields, fewer than a group: only the bytes they occupy exist.
  let buffer = 0;
  let buffered = 0;
  for (; t < k; t++) {
    while (buffered < lowBits) {
      buffer |= (bytes[q++] as number) << buffered;
      buffered += 8;
    }
    out[to + t] = buffer & mask;
    buffer >>>= lowBits;
    buffered -= lowBits;
  }
}

/** out[to + t] |= (x_t >> L) << L, from the positions of the upper part's set bits. */
function mergeUpperPart(
  bytes: Uint8Array,
  at: number,
  shape: EliasFanoShape,
  out: Uint16Array | Int32Array,
  to: number,
): void {
  const { k, lowBits, upperBytes } = shape;
  let t = 0;
  // 32 bits at a time: fewer trips round the outer loop than byte by byte.
  for (let b = 0; b < upperBytes && t < k; b += 4) {
    let word = upperWord(bytes, at, b, upperBytes);
    const base = b * 8;
    while (word !== 0) {
      out[to + t] |= (base + 31 - Math.clz32(word & -word) - t) << lowBits;
      word &= word - 1;
      t++;
    }
  }
}

/** Bytes b … b+3 of the upper part at `at` as a little-endian word, zero past its end. */
function upperWord(bytes: Uint8Array, at: number, b: number, upperBytes: number): number {
  const p = at + b;
  return (
    (bytes[p] as number) |
    ((b + 1 < upperBytes ? (bytes[p + 1] as number) : 0) << 8) |
    ((b + 2 < upperBytes ? (bytes[p + 2] as number) : 0) << 16) |
    ((b + 3 < upperBytes ? (bytes[p + 3] as number) : 0) << 24)
  );
}

/** Upper and low parts together, the low fields from a bit buffer refilled a byte at a time. */
function decodeInOnePass(
  bytes: Uint8Array,
  at: number,
  shape: EliasFanoShape,
  out: Uint16Array | Int32Array,
  to: number,
): void {
  const { k, lowBits, upperBytes } = shape;
  const mask = (1 << lowBits) - 1;
  let next = at + upperBytes;
  let buffer = 0;
  let buffered = 0;
  let t = 0;
  for (let b = 0; b < upperBytes && t < k; b += 4) {
    let word = upperWord(bytes, at, b, upperBytes);
    const base = b * 8;
    while (word !== 0) {
      const bit = 31 - Math.clz32(word & -word);
      word &= word - 1;
      // At most two bytes per field (L ≤ 12), never past the low part: k·L bits are all there.
      if (buffered < lowBits) {
        buffer |= (bytes[next++] as number) << buffered;
        buffered += 8;
        if (buffered < lowBits) {
          buffer |= (bytes[next++] as number) << buffered;
          buffered += 8;
        }
      }
      out[to + t] = ((base + bit - t) << lowBits) | (buffer & mask);
      buffer >>>= lowBits;
      buffered -= lowBits;
      t++;
    }
  }
}

/**
 * Decodes and checks one chunk, as the validator does: exactly k upper bits set, zero padding in
 * both parts, every index below totalk and each above the one before. Throws the coded fault.
 */
export function checkEliasFano(
  bytes: Uint8Array,
  at: number,
  shape: EliasFanoShape,
  out: Uint16Array | Int32Array,
  where: string,
): void {
  // Valid chunks, all of them in an honest file, pass a quick test; only the others are walked
  // bit by bit, which names the first fault exactly.
  if (!isValidCoding(bytes, at, shape, out)) checkBitByBit(bytes, at, shape, out, where);
}

/** Bits set in a 32-bit word. */
function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * True when chunk bytes[at …] is a valid coding, its indices then decoded into out[0 … k): exactly
 * k upper bits set, none in the padding, zero low padding, indices ascending below totalk.
 */
function isValidCoding(bytes: Uint8Array, at: number, shape: EliasFanoShape, out: Uint16Array | Int32Array): boolean {
  const { k, totalk, upperBits, upperBytes } = shape;
  let set = 0;
  for (let b = 0; b < upperBytes; b += 4) set += popcount(upperWord(bytes, at, b, upperBytes));
  if (set !== k) return false;
  if (upperBits % 8 !== 0 && (bytes[at + upperBytes - 1] as number) >> (upperBits % 8) !== 0) return false;
  if (!lowPaddingClear(bytes, at, shape)) return false;
  decodeEliasFano(bytes, at, shape, out, 0);
  let previous = -1;
  for (let t = 0; t < k; t++) {
    const x = out[t] as number;
    if (x <= previous) return false;
    previous = x;
  }
  return previous < totalk;
}

/** checkEliasFano's walk: decodes bit by bit and throws the first fault met. */
function checkBitByBit(
  bytes: Uint8Array,
  at: number,
  shape: EliasFanoShape,
  out: Uint16Array | Int32Array,
  where: string,
): void {
  const { k, totalk, lowBits, upperBits, upperBytes } = shape;
  const mask = (1 << lowBits) - 1;
  const low = at + upperBytes;
  let t = 0;
  let previous = -1;
  for (let b = 0; b < upperBytes; b++) {
    let byte = bytes[at + b] as number;
    while (byte !== 0) {
      const bit = 31 - Math.clz32(byte & -byte);
      byte &= byte - 1;
      const u = b * 8 + bit;
      if (u >= upperBits)
        throw new EdgeError("INDEX_CODING_INVALID", `${where}: padding bits of the upper part are not zero`);
      if (t === k) throw new EdgeError("INDEX_CODING_INVALID", `${where}: the upper part codes more than ${k} indices`);
      const x = ((u - t) << lowBits) | (lowBits === 0 ? 0 : lowOf(bytes, low, t, lowBits, mask));
      if (x >= totalk)
        throw new EdgeError("INDEX_OUT_OF_RANGE", `${where}: index ${x} is not below the chunk size ${totalk}`);
      if (x <= previous) {
        throw new EdgeError(
          x === previous ? "INDEX_DUPLICATE" : "INDEX_ORDER_INVALID",
          x === previous ? `${where}: index ${x} appears twice` : `${where}: index ${x} follows ${previous}`,
        );
      }
      out[t++] = x;
      previous = x;
    }
  }
  if (t !== k) throw new EdgeError("INDEX_CODING_INVALID", `${where}: the upper part codes ${t} indices, not ${k}`);
  if (!lowPaddingClear(bytes, at, shape))
    throw new EdgeError("INDEX_CODING_INVALID", `${where}: padding bits of the low part are not zero`);
}

/** True when the unused bits of the low part's last byte are zero. */
function lowPaddingClear(bytes: Uint8Array, at: number, shape: EliasFanoShape): boolean {
  const used = (shape.k * shape.lowBits) % 8;
  return used === 0 || (bytes[at + shape.upperBytes + shape.lowBytes - 1] as number) >> used === 0;
}
