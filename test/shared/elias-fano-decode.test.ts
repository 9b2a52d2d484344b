// The unchecked Elias-Fano decoder (tuned for speed) against the encoder and the checked decoder:
// every shape (no low bits, low fields across byte boundaries, upper parts not a multiple of 4 bytes).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { paramLayout } from "../../schema/codec/chunking.ts";
import { checkEliasFano, decodeEliasFano, eliasFanoShape, encodeEliasFano } from "../../schema/codec/elias-fano.ts";
import { packIndices, unpackChunkIndices } from "../../schema/codec/index-coding.ts";
import { HPARAMS } from "./fixtures/gradients.ts";

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
