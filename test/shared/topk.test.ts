// The fast top-k selection (float32 bits, threshold from the previous chunk) against the
// reference (gather, Math.abs, quickselect): the same indices and values on adversarial inputs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ParamLayout, paramLayout } from "../../schema/codec/chunking.ts";
import { selectChunks, selectChunksByBits, selectChunksReference } from "../../schema/codec/topk.ts";
import { EdgeError } from "../../schema/errors.ts";
import { HPARAMS } from "./fixtures/gradients.ts";

const RUNS = { numRuns: 80 };
const MAX_FLOAT32 = 3.4028234663852886e38;
const MIN_DENORMAL = 1.401298464324817e-45;

/** Values that stress the ordering: signed zeros, denormals, extremes, and few distinct magnitudes (ties). */
const valueArb = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, -0.5, MIN_DENORMAL, -MIN_DENORMAL, 1.1754942e-38, -1.1754942e-38),
  fc.constantFrom(MAX_FLOAT32, -MAX_FLOAT32, 1e30, -1e30, 2.5, -2.5),
  fc.float({ noNaN: true, noDefaultInfinity: true }),
  fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e-3), max: Math.fround(1e-3) }),
);

/** Shapes and settings covering 2-D square and non-square chunks, 1-D, and k = totalk. */
const layoutArb = fc
  .record({
    shape: fc.constantFrom([64, 64], [24, 40], [96, 40], [6, 2], [10], [130], [256], [48, 36], [4, 4]),
    target: fc.constantFrom(4, 8, 12, 16, 64),
    topk: fc.constantFrom(2, 4, 6, 16, 64, 4096),
  })
  .map(({ shape, target, topk }) =>
    paramLayout(
      { name: "p", shape },
      { ...HPARAMS.compression, target_chunk: target, topk_compression: topk, use_dct: false },
    ),
  );

interface Selection {
  readonly indices: Uint16Array;
  readonly values: Float32Array;
}

function run(
  select: (d: Float32Array, l: ParamLayout, i: Uint16Array, v: Float32Array, from: number, to: number) => void,
  dense: Float32Array,
  layout: ParamLayout,
  splits: readonly number[] = [],
): Selection {
  const indices = new Uint16Array(layout.chunks * layout.k);
  const values = new Float32Array(layout.chunks * layout.k);
  const bounds = [0, ...splits.filter((s) => s > 0 && s < layout.chunks).sort((a, b) => a - b), layout.chunks];
  for (let b = 0; b + 1 < bounds.length; b++)
    select(dense, layout, indices, values, bounds[b] as number, bounds[b + 1] as number);
  return { indices, values };
}

const reference = (d: Float32Array, l: ParamLayout, i: Uint16Array, v: Float32Array, from: number, to: number) =>
  selectChunksReference(d, l, false, i, v, from, to);

/** The same selection, signed zeros and all: values compared bit for bit. */
function expectSame(a: Selection, b: Selection): void {
  expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
  expect(Array.from(new Uint32Array(a.values.buffer))).toEqual(Array.from(new Uint32Array(b.values.buffer)));
}

/** A parameter of `layout` drawn from valueArb, placed at an offset inside a larger buffer (as in a flat vector). */
const denseArb = layoutArb.chain((layout) =>
  fc.record({
    layout: fc.constant(layout),
    values: fc.array(valueArb, { minLength: layout.numel, maxLength: layout.numel }),
    offset: fc.integer({ min: 0, max: 3 }),
    scales: fc.array(fc.integer({ min: -60, max: 60 }), { minLength: layout.chunks, maxLength: layout.chunks }),
    splits: fc.array(fc.integer({ min: 0, max: layout.chunks }), { maxLength: 3 }),
  }),
);

function placed(values: readonly number[], offset: number): Float32Array {
  const buffer = new Float32Array(values.length + offset + 1);
  buffer.set(values, offset);
  return buffer.subarray(offset, offset + values.length);
}

describe("top-k selection by float32 bits", () => {
  it("selects what the reference selects on adversarial values, for any split of the chunks", () => {
    fc.assert(
      fc.property(denseArb, ({ layout, values, offset, splits }) => {
        const dense = placed(values, offset);
        const expected = run(reference, dense, layout);
        expectSame(run(selectChunksByBits, dense, layout, splits), expected);
        expectSame(
          run((d, l, i, v, f, t) => selectChunks(d, l, false, i, v, f, t), dense, layout, splits),
          expected,
        );
      }),
      RUNS,
    );
  });

  it("stays exact when the magnitude jumps by powers of two from chunk to chunk (the threshold guess misses)", () => {
    fc.assert(
      fc.property(denseArb, ({ layout, values, offset, scales }) => {
        const scaled = values.map((v, e) => {
          const row = layout.rows > 1 ? Math.floor(e / layout.cols) : 0;
          const col = layout.rows > 1 ? e % layout.cols : e;
          const c = Math.floor(row / layout.h) * layout.gridCols + Math.floor(col / layout.w);
          return Math.fround(v * 2 ** (scales[c] as number));
        });
        if (scaled.some((v) => !Number.isFinite(v))) return;
        const dense = placed(scaled, offset);
        expectSame(run(selectChunksByBits, dense, layout), run(reference, dense, layout));
      }),
      RUNS,
    );
  });

  it("keeps the lower element numbers when a tie straddles the boundary, ±0 equal", () => {
    const dense = new Float32Array(4 * 4096);
    // Chunk 0: all equal. Chunk 1: 40 large, then ±1 alternating. Chunk 2: all zeros of both signs.
    // Chunk 3: one huge value, denormals, the rest zero.
    for (let r = 0; r < 64; r++) {
      for (let j = 0; j < 64; j++) {
        const i = r * 64 + j;
        const at = (c: number) => (c >> 1) * 64 * 128 + r * 128 + (c & 1) * 64 + j;
        dense[at(0)] = 0.25;
        dense[at(1)] = i % 97 === 5 && i < 97 * 40 ? 9 : i % 2 ? -1 : 1;
        dense[at(2)] = i % 3 ? -0 : 0;
        dense[at(3)] = i === 4000 ? MAX_FLOAT32 : i % 5 === 0 ? -MIN_DENORMAL : 0;
      }
    }
    const wide = paramLayout({ name: "p", shape: [128, 128] }, { ...HPARAMS.compression, use_dct: false });
    expect(wide.chunks).toBe(4);
    const got = run(selectChunksByBits, dense, wide);
    expectSame(got, run(reference, dense, wide));
    // Chunk 0: the first 64 elements; chunk 2: likewise, zeros tied regardless of sign.
    expect(Array.from(got.indices.subarray(0, 64))).toEqual(Array.from({ length: 64 }, (_, t) => t));
    expect(Array.from(got.indices.subarray(128, 192))).toEqual(Array.from({ length: 64 }, (_, t) => t));
  });

  it("selects every element when k = totalk", () => {
    const layout = paramLayout(
      { name: "p", shape: [8, 6] },
      { ...HPARAMS.compression, target_chunk: 4, topk_compression: 4096, use_dct: false },
    );
    expect(layout.k).toBe(layout.totalk);
    const dense = Float32Array.from({ length: layout.numel }, (_, i) => (i % 7) - 3);
    const got = run(selectChunksByBits, dense, layout);
    expectSame(got, run(reference, dense, layout));
    expect(Array.from(got.indices.subarray(0, layout.k))).toEqual(Array.from({ length: layout.k }, (_, t) => t));
  });

  it("refuses a NaN or an infinity anywhere with NON_FINITE, as the reference does", () => {
    fc.assert(
      fc.property(
        denseArb,
        fc.nat(),
        fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
        ({ layout, values, offset, splits }, at, bad) => {
          const dense = placed(values, offset);
          dense[at % layout.numel] = bad;
          const failure = (select: Parameters<typeof run>[0]): unknown => {
            try {
              run(select, dense, layout, splits);
            } catch (e) {
              return e;
            }
            return undefined;
          };
          const fast = failure(selectChunksByBits);
          expect(fast).toBeInstanceOf(EdgeError);
          expect((fast as EdgeError).code).toBe("NON_FINITE");
          // Ranges run in order, so the same first bad chunk is named.
          expect((fast as EdgeError).message).toBe((failure(reference) as EdgeError).message);
        },
      ),
      { numRuns: 40 },
    );
  });
});
