/**
 * 12-bit index packing (Templar v2.1.3; docs/SPEC.md §3.5): two indices in three bytes.
 *
 *   byte0 = a & 0xFF
 *   byte1 = ((a >> 8) & 0x0F) | ((b & 0x0F) << 4)
 *   byte2 = (b >> 4) & 0xFF
 */
import { EdgeError } from "../errors.ts";

/** Packs an even number of indices, each < 4096, into 3 bytes per pair. */
export function pack12(indices: ArrayLike<number>): Uint8Array {
  const n = indices.length;
  if (n % 2 !== 0) throw new EdgeError("PACK12_ODD_COUNT", `12-bit packing needs an even count of indices, got ${n}`);
  const out = new Uint8Array((n / 2) * 3);
  for (let i = 0, o = 0; i < n; i += 2, o += 3) {
    const a = indices[i];
    const b = indices[i + 1];
    if (!(a >= 0 && a < 4096 && b >= 0 && b < 4096) || !Number.isInteger(a) || !Number.isInteger(b)) {
      const bad = a >= 0 && a < 4096 && Number.isInteger(a) ? b : a;
      throw new EdgeError("PACK12_INDEX_OVERFLOW", `index ${bad} does not fit in 12 bits`);
    }
    out[o] = a & 0xff;
    out[o + 1] = ((a >> 8) & 0x0f) | ((b & 0x0f) << 4);
    out[o + 2] = (b >> 4) & 0xff;
  }
  return out;
}

/** Unpacks 3 bytes per pair; `count`, when given, must match the byte length exactly. */
export function unpack12(bytes: Uint8Array, count?: number): Uint16Array {
  if (bytes.length % 3 !== 0 || (count !== undefined && count * 3 !== bytes.length * 2)) {
    const want = count === undefined ? "a multiple of 3" : String((count * 3) / 2);
    throw new EdgeError("PACK12_LENGTH_INVALID", `packed indices are ${bytes.length} bytes, expected ${want}`);
  }
  const out = new Uint16Array((bytes.length / 3) * 2);
  unpack12Into(bytes, 0, out, 0, out.length);
  return out;
}

/** Unpacks `count` (even) indices starting at bytes[from] into out[to…]; no checks (hot path). */
export function unpack12Into(
  bytes: Uint8Array,
  from: number,
  out: Uint16Array | Int32Array,
  to: number,
  count: number,
): void {
  for (let i = 0, s = from, d = to; i < count; i += 2, s += 3, d += 2) {
    const b0 = bytes[s];
    const b1 = bytes[s + 1];
    const b2 = bytes[s + 2];
    out[d] = b0 | ((b1 & 0x0f) << 8);
    out[d + 1] = (b1 >> 4) | (b2 << 4);
  }
}
