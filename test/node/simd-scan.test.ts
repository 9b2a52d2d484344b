// The WebAssembly SIMD scan under the fast top-k selection: the same selection as the reference
// on adversarial values and chunk shapes (widths that are and are not multiples of 16), and NON_FINITE.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ParamLayout, paramLayout } from "../../schema/codec/chunking.ts";
import { selectChunksByBits, selectChunksReference } from "../../schema/codec/topk.ts";
import { EdgeError } from "../../schema/errors.ts";
import { scanKernel, sharedWasmMemory, simdAvailable, simdChunkScanner } from "../../scripts/miner/simd-scan.ts";
import { HPARAMS } from "../shared/fixtures/gradients.ts";

const valueArb = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 1.401298464324817e-45, -1.401298464324817e-45, 3.4028234663852886e38, -2.5),
  fc.float({ noNaN: true, noDefaultInfinity: true }),
);

const layoutArb = fc
  .record({
    shape: fc.constantFrom([64, 64], [24, 40], [96, 40], [6, 2], [10], [130], [256], [48, 36], [32, 48], [3, 80]),
    target: fc.constantFrom(4, 16, 40, 64),
    topk: fc.constantFrom(2, 6, 16, 64, 4096),
  })
  .map(({ shape, target, topk }) =>
    paramLayout({ name: "p", shape }, { ...HPARAMS.compression, target_chunk: target, topk_compression: topk }),
  );

/** The parameter at float `offset` of a fresh shared wasm memory, and a scanner over it. */
function inMemory(values: readonly number[], offset: number, layout: ParamLayout) {
  const scratchAt = Math.ceil(((offset + values.length) * 4) / 16) * 16;
  const memory = sharedWasmMemory(Math.ceil((scratchAt + 8 * 4096) / 65536));
  const dense = new Float32Array(memory.buffer, offset * 4, values.length);
  dense.set(values);
  const kernel = scanKernel(memory);
  if (!kernel) throw new Error("no WebAssembly SIMD");
  return { dense, scanner: simdChunkScanner(kernel, memory, scratchAt, dense, layout) };
}

function select(
  dense: Float32Array,
  layout: ParamLayout,
  fast: boolean,
  scanner?: Parameters<typeof selectChunksByBits>[6],
) {
  const indices = new Uint16Array(layout.chunks * layout.k);
  const values = new Float32Array(layout.chunks * layout.k);
  if (fast) selectChunksByBits(dense, layout, indices, values, 0, layout.chunks, scanner);
  else selectChunksReference(dense, layout, false, indices, values, 0, layout.chunks);
  return { indices: Array.from(indices), bits: Array.from(new Uint32Array(values.buffer)) };
}

describe.runIf(simdAvailable())("SIMD scan", () => {
  it("gives the reference selection on adversarial values", () => {
    fc.assert(
      fc.property(
        layoutArb.chain((layout) =>
          fc.record({
            layout: fc.constant(layout),
            values: fc.array(valueArb, { minLength: layout.numel, maxLength: layout.numel }),
            offset: fc.integer({ min: 0, max: 5 }),
          }),
        ),
        ({ layout, values, offset }) => {
          const { dense, scanner } = inMemory(values, offset, layout);
          expect(select(dense, layout, true, scanner)).toEqual(select(dense, layout, false));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("throws NON_FINITE for a NaN or an infinity anywhere", () => {
    const layout = paramLayout({ name: "p", shape: [96, 40] }, HPARAMS.compression);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const at of [0, 17, 1000, layout.numel - 1]) {
        const values = Array.from({ length: layout.numel }, (_, i) => Math.sin(i));
        values[at] = bad;
        const { dense, scanner } = inMemory(values, 1, layout);
        expect(() => select(dense, layout, true, scanner)).toThrow(EdgeError);
        expect(() => select(dense, layout, true, scanner)).toThrow(/non-finite/);
      }
    }
  });
});
