// The unchecked Elias-Fano decoder (tuned for speed) against the encoder and the checked decoder:
// every shape (no low bits, low fields across byte boundaries, upper parts not a multiple of 4 bytes).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { paramLayout } from "../../schema/codec/chunking.ts";
import { checkEliasFano, decodeEliasFano, eliasFanoShape, encodeEliasFano } from "../../schema/codec/elias-fano.ts";
import { packIndices, unpackChunkIndices } from "../../schema/codec/index-coding.ts";
import { HPARAMS, rng } from "./fixtures/gradients.ts";

/** A chunk size, k, and several chunks of k distinct ascending indices below it. */
const chunksArb = fc
  .record({ totalk: fc.integer({ min: 2, max: 4096 }), share: fc.double({ min: 0, max: 1, noNaN: true }) })
  .chain(({ totalk, share }) => {
    const k = Math.max(1, Math.min(totalk, Math.round(share * share * totalk)));
    return fc.record({
      totalk: fc.constant(totalk),
      k: fc.constant(k),
      sets: fc.array(fc.uniqueArray(fc.integer({ min: 0, max: totalk - 1 }), { minLength: k, maxLength: k }), {
        minLength: 1,
        maxLength: 4,
      }),
      at: fc.integer({ min: 0, max: 5 }),
    });
  });

describe("Elias-Fano decoding", () => {
  it("gives back every encoded set, chunk after chunk at any offset, as the checked decoder does", () => {
    fc.assert(
      fc.property(chunksArb, ({ totalk, k, sets, at }) => {
        const shape = eliasFanoShape(totalk, k);
        const bytes = new Uint8Array(at + sets.length * shape.bytes);
        const sorted = sets.map((s) => Uint16Array.from(s).sort());
        for (const [c, s] of sorted.entries()) encodeEliasFano(s, 0, shape, bytes, at + c * shape.bytes);
        const out16 = new Uint16Array(k + 3);
        const out32 = new Int32Array(k + 3);
        const checked = new Uint16Array(k);
        sorted.forEach((s, c) => {
          decodeEliasFano(bytes, at + c * shape.bytes, shape, out16, 3);
          decodeEliasFano(bytes, at + c * shape.bytes, shape, out32, 3);
          checkEliasFano(bytes, at + c * shape.bytes, shape, checked, "test");
          expect(Array.from(out16.subarray(3))).toEqual(Array.from(s));
          expect(Array.from(out32.subarray(3))).toEqual(Array.from(s));
          expect(Array.from(checked)).toEqual(Array.from(s));
        });
      }),
      { numRuns: 300 },
    );
  });

  it("decodes every low-field width: 0 to 11 bits, unrolled widths and the rest", () => {
    const next = rng(17);
    for (let lowBits = 0; lowBits <= 11; lowBits++) {
      for (const k of [2, 6, 8, 12, 30, 32, 64]) {
        const totalk = Math.min(4096, k * 2 ** lowBits + Math.floor(next() * k * 2 ** lowBits));
        const shape = eliasFanoShape(totalk, k);
        if (shape.lowBits !== lowBits) continue;
        const chosen = new Set<number>();
        while (chosen.size < k) chosen.add(Math.floor(next() * totalk));
        const indices = Uint16Array.from(chosen).sort();
        const bytes = new Uint8Array(shape.bytes);
        encodeEliasFano(indices, 0, shape, bytes, 0);
        const out = new Uint16Array(k);
        decodeEliasFano(bytes, 0, shape, out, 0);
        expect(Array.from(out), `L = ${lowBits}, k = ${k}`).toEqual(Array.from(indices));
      }
    }
  });

  it("unpacks a layout's chunks in both versions", () => {
    for (const shape of [[64, 64], [96, 40], [130], [10]]) {
      const layout = paramLayout({ name: "p", shape }, HPARAMS.compression);
      const indices = new Uint16Array(layout.chunks * layout.k);
      // Spread out, and shifted by one on odd chunks where there is room.
      const shift = layout.totalk >= 2 * layout.k ? 1 : 0;
      for (let c = 0; c < layout.chunks; c++)
        for (let t = 0; t < layout.k; t++)
          indices[c * layout.k + t] = Math.floor((t * layout.totalk) / layout.k) + (c % 2) * shift;
      for (const version of [1, 2] as const) {
        const bytes = packIndices(indices, layout, version);
        const out = new Uint16Array(layout.k);
        for (let c = 0; c < layout.chunks; c++) {
          unpackChunkIndices(bytes, c, layout, version, out);
          expect(Array.from(out)).toEqual(Array.from(indices.subarray(c * layout.k, (c + 1) * layout.k)));
        }
      }
    }
  });
});

/** The spec's checks, bit by bit (docs/SPEC.md §3.5), as an oracle: the first fault's code, or the indices. */
function oracle(bytes: Uint8Array, at: number, totalk: number, k: number): string | number[] {
  const shape = eliasFanoShape(totalk, k);
  const bit = (b: number) => ((bytes[at + (b >> 3)] as number) >> (b & 7)) & 1;
  const out: number[] = [];
  for (let u = 0; u < shape.upperBytes * 8; u++) {
    if (!bit(u)) continue;
    if (u >= shape.upperBits) return "INDEX_CODING_INVALID";
    if (out.length === k) return "INDEX_CODING_INVALID";
    let low = 0;
    for (let i = 0; i < shape.lowBits; i++) low |= bit(shape.upperBytes * 8 + out.length * shape.lowBits + i) << i;
    const x = ((u - out.length) << shape.lowBits) | low;
    if (x >= totalk) return "INDEX_OUT_OF_RANGE";
    const previous = out.at(-1) ?? -1;
    if (x === previous) return "INDEX_DUPLICATE";
    if (x < previous) return "INDEX_ORDER_INVALID";
    out.push(x);
  }
  if (out.length !== k) return "INDEX_CODING_INVALID";
  for (let b = k * shape.lowBits; b < shape.lowBytes * 8; b++)
    if (bit(shape.upperBytes * 8 + b)) return "INDEX_CODING_INVALID";
  return out;
}

describe("Elias-Fano checking", () => {
  it("accepts and refuses exactly as the spec's bit-by-bit checks do, on codings with flipped bits", () => {
    fc.assert(
      fc.property(chunksArb, fc.array(fc.nat(), { maxLength: 3 }), ({ totalk, k, sets, at }, flips) => {
        const shape = eliasFanoShape(totalk, k);
        const bytes = new Uint8Array(at + shape.bytes + 2).fill(0xa5);
        bytes.fill(0, at, at + shape.bytes);
        encodeEliasFano(Uint16Array.from(sets[0] as number[]).sort(), 0, shape, bytes, at);
        for (const f of flips) {
          const b = f % (shape.bytes * 8);
          bytes[at + (b >> 3)] = (bytes[at + (b >> 3)] as number) ^ (1 << (b & 7));
        }
        const expected = oracle(bytes, at, totalk, k);
        const out = new Uint16Array(k);
        let got: string | number[];
        try {
          checkEliasFano(bytes, at, shape, out, "chunk");
          got = Array.from(out);
        } catch (e) {
          got = (e as { code: string }).code;
        }
        expect(got).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
