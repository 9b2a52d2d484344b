// Templar's published vectors (../shared/vectors/templar-codec.json), in both runtimes.
import { describe, expect, it } from "vitest";
import vectors from "../../../shared/vectors/templar-codec.json" with { type: "json" };
import { largestDivisorAtMost } from "../../schema/codec/chunking.ts";
import { checkEliasFano, decodeEliasFano, eliasFanoShape, encodeEliasFano } from "../../schema/codec/elias-fano.ts";
import { chunkOverlap } from "../../schema/codec/index-overlap.ts";
import { pack12, unpack12 } from "../../schema/codec/pack12.ts";
import { binValues, quantize } from "../../schema/codec/quantize.ts";
import type { EdgeError, ErrorCode } from "../../schema/errors.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));

// The vector file names errors in words; these are our codes for them.
const PACK_ERRORS: Record<string, ErrorCode> = {
  "odd count": "PACK12_ODD_COUNT",
  "index exceeds 12 bits": "PACK12_INDEX_OVERFLOW",
};

describe("templar-codec.json vectors", () => {
  it.each(vectors.pack12)("packs $indices to $hex and back", ({ indices, hex: want }) => {
    const packed = pack12(indices);
    expect(hex(packed)).toBe(want);
    expect(Array.from(unpack12(packed, indices.length))).toEqual(indices);
  });

  it.each(vectors.pack12_errors)("refuses $indices: $error", ({ indices, error }) => {
    const code = PACK_ERRORS[error];
    expect(code).toBeDefined();
    expect(() => pack12(indices)).toThrowError(expect.objectContaining({ code }) as unknown as EdgeError);
  });

  it.each(vectors.quantize_bins4_range6)("quantizes $input", (v) => {
    const q = quantize(Float32Array.from(v.input), 4, 6);
    expect(q.shift).toBe(v.shift);
    expect(q.scale).toBe(v.scale);
    expect(Array.from(q.codes)).toEqual(v.codes);
    expect(Array.from(q.lookup)).toEqual(v.lookup);
    const values = binValues(q.lookup, q.shift);
    expect(Array.from(q.codes, (c) => values[c])).toEqual(v.dequant);
  });

  it.each(vectors.chunk_split_largest_divisor_le_target)("splits $n with target $target into $split", (v) => {
    expect(largestDivisorAtMost(v.n, v.target)).toBe(v.split);
  });

  it.each(vectors.index_overlap)("overlap of $a and $b is $overlap", (v) => {
    expect(chunkOverlap(v.a, v.b, v.k)).toBe(v.overlap);
  });
});

// Elias-Fano codings of one chunk (format version 2, docs/SPEC.md §3.5), computed by hand.
// L is the largest with k·2^L ≤ totalk; the upper part has U = ((totalk − 1) >> L) + k bits with
// bit (x_t >> L) + t set; the low part holds x_t & (2^L − 1) in bits [t·L, t·L + L); bits are
// least significant first; the upper part comes first.
const ELIAS_FANO = [
  {
    // L = 2 (4·4 = 16), U = 3 + 4 = 7 bits: 1 + 1 bytes.
    // highs 0 1 2 3 → upper bits 0, 2, 4, 6 → 0b01010101 = 55
    // lows  1 1 1 3 → 01 | 01 << 2 | 01 << 4 | 11 << 6 = 0b11010101 = d5
    totalk: 16,
    k: 4,
    indices: [1, 5, 9, 15],
    hex: "55d5",
  },
  {
    // Equal high parts: highs 0 1 1 2 → upper bits 0, 2, 3, 5 → 1 + 4 + 8 + 32 = 2d
    // lows 1 1 2 1 → 01 | 01 << 2 | 10 << 4 | 01 << 6 = 1 + 4 + 32 + 64 = 65
    totalk: 16,
    k: 4,
    indices: [1, 5, 6, 9],
    hex: "2d65",
  },
  {
    // L = 1 (3·2 = 6 ≤ 10 < 12), U = 4 + 3 = 7 bits (bit 7 padding), low 3 bits (bits 3–7 padding).
    // highs 0 3 4 → upper bits 0, 4, 6 → 1 + 16 + 64 = 51; lows 0 1 1 → bits 1, 2 → 06
    totalk: 10,
    k: 3,
    indices: [0, 7, 9],
    hex: "5106",
  },
  {
    // L = 0 (4·2 = 8 > 6), U = 5 + 4 = 9 bits: 2 bytes, no low part.
    // upper bits x + t: 0, 3, 5, 8 → 1 + 8 + 32 = 29, then 01
    totalk: 6,
    k: 4,
    indices: [0, 2, 3, 5],
    hex: "2901",
  },
  {
    // L = 12 (1·4096), U = 0 + 1 = 1 bit → 01; low 12 bits fff → ff 0f
    totalk: 4096,
    k: 1,
    indices: [4095],
    hex: "01ff0f",
  },
  {
    // 64×64 at top-64: L = 6, U = 63 + 64 = 127 bits, 16 + 48 bytes.
    // x_t = 64·t: high t → upper bit 2t, 0b01010101 in all 16 bytes; every low part 0
    totalk: 4096,
    k: 64,
    indices: Array.from({ length: 64 }, (_, t) => 64 * t),
    hex: "55".repeat(16) + "00".repeat(48),
  },
];

// Hand-made faulty codings and the validator's code for each.
const ELIAS_FANO_FAULTS: { why: string; totalk: number; k: number; hex: string; code: ErrorCode }[] = [
  // [1, 5, 4, 15]: highs 0 1 1 3 → bits 0, 2, 3, 6 = 4d; lows 1 1 0 3 → 1 + 4 + 0 + 192 = c5
  { why: "4 after 5 (equal high parts)", totalk: 16, k: 4, hex: "4dc5", code: "INDEX_ORDER_INVALID" },
  // [1, 5, 5, 15]: highs 0 1 1 3 → 4d; lows 1 1 1 3 → d5
  { why: "5 twice", totalk: 16, k: 4, hex: "4dd5", code: "INDEX_DUPLICATE" },
  // 55d5 without its last upper bit: bits 0, 2, 4 code 3 indices
  { why: "k − 1 upper bits", totalk: 16, k: 4, hex: "15d5", code: "INDEX_CODING_INVALID" },
  // 2d65 with a 5th upper bit after the last (bit 5 → also bit 6): 2d | 40 = 6d
  { why: "k + 1 upper bits", totalk: 16, k: 4, hex: "6d65", code: "INDEX_CODING_INVALID" },
  { why: "the upper part's padding bit 7", totalk: 10, k: 3, hex: "d106", code: "INDEX_CODING_INVALID" },
  { why: "the low part's padding bit 3", totalk: 10, k: 3, hex: "510e", code: "INDEX_CODING_INVALID" },
  { why: "an upper padding bit, no low part", totalk: 6, k: 4, hex: "2981", code: "INDEX_CODING_INVALID" },
  // totalk 5, k 2: L = 1, U = 2 + 2 = 4 bits. [0, 5]: highs 0 2 → bits 0, 3 = 09; lows 0 1 → 02
  { why: "index 5 of a 5-element chunk", totalk: 5, k: 2, hex: "0902", code: "INDEX_OUT_OF_RANGE" },
];

describe("Elias-Fano vectors", () => {
  it.each(ELIAS_FANO)("codes $indices below $totalk as $hex and back", ({ totalk, k, indices, hex: want }) => {
    const shape = eliasFanoShape(totalk, k);
    expect(shape.bytes).toBe(want.length / 2);
    const out = new Uint8Array(shape.bytes);
    encodeEliasFano(indices, 0, shape, out, 0);
    expect(hex(out)).toBe(want);
    const decoded = new Int32Array(k);
    decodeEliasFano(unhex(want), 0, shape, decoded, 0);
    expect(Array.from(decoded)).toEqual(indices);
    const checked = new Uint16Array(k);
    checkEliasFano(unhex(want), 0, shape, checked, "vector");
    expect(Array.from(checked)).toEqual(indices);
  });

  it.each(ELIAS_FANO_FAULTS)("refuses $hex ($why) with $code", ({ totalk, k, hex: bytes, code }) => {
    const shape = eliasFanoShape(totalk, k);
    expect(bytes.length / 2).toBe(shape.bytes);
    expect(() => checkEliasFano(unhex(bytes), 0, shape, new Uint16Array(k), "vector")).toThrowError(
      expect.objectContaining({ code }) as unknown as EdgeError,
    );
  });
});
