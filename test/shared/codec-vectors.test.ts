// Templar's published vectors (../shared/vectors/templar-codec.json), in both runtimes.
import { describe, expect, it } from "vitest";
import vectors from "../../../shared/vectors/templar-codec.json" with { type: "json" };
import { largestDivisorAtMost } from "../../schema/codec/chunking.ts";
import { chunkOverlap } from "../../schema/codec/index-overlap.ts";
import { pack12, unpack12 } from "../../schema/codec/pack12.ts";
import { binValues, quantize } from "../../schema/codec/quantize.ts";
import type { EdgeError, ErrorCode } from "../../schema/errors.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

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
