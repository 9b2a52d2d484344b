// Properties of the codec, checked on generated inputs, in both runtimes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregateGradients, clipFactors, lowerMedian } from "../../schema/codec/aggregate.ts";
import { gatherChunk, gradientLayout, type ParamLayout, paramLayout } from "../../schema/codec/chunking.ts";
import { packCodes, unpackCodes } from "../../schema/codec/codes2bit.ts";
import { dctChunk, idctChunk } from "../../schema/codec/dct.ts";
import { applyGradient, decompressParam, UndoLog } from "../../schema/codec/decode.ts";
import { compressParam, gradientFileSize } from "../../schema/codec/encode.ts";
import { parseMetadata } from "../../schema/codec/gradient-format.ts";
import { pack12, unpack12 } from "../../schema/codec/pack12.ts";
import { binValues, quantize } from "../../schema/codec/quantize.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import type { CompressionHparams } from "../../schema/hparams.ts";
import {
  buildGradient,
  HPARAMS,
  IDENTITY,
  randomValues,
  readHeader,
  rng,
  TEST_MANIFEST,
} from "./fixtures/gradients.ts";

const OFF: CompressionHparams = HPARAMS.compression;
const ON: CompressionHparams = { ...OFF, use_dct: true };
const RUNS = { numRuns: 60 };

/** Shapes whose chunking covers 2-D, 1-D, non-power-of-two and padded-code layouts. */
const shapeArb = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([a, b]) => [a * 32, b * 24]),
  fc.constantFrom([10], [130], [64], [256], [96, 40], [64, 64], [6, 2]),
);

function reference(dense: Float32Array, layout: ParamLayout, useDct: boolean, c: number): Float64Array {
  const chunk = new Float64Array(layout.totalk);
  gatherChunk(dense, layout, c, chunk);
  if (useDct) dctChunk(chunk, layout.h, layout.w, new Float64Array(layout.totalk));
  return chunk;
}

/** Indices of the k largest |v| (ties to the lower index), by sorting: an independent oracle. */
function topkBySort(chunk: Float64Array, k: number): number[] {
  return Array.from(chunk.keys())
    .sort((a, b) => Math.abs(chunk[b]) - Math.abs(chunk[a]) || a - b)
    .slice(0, k)
    .sort((a, b) => a - b);
}

describe("12-bit packing", () => {
  it("unpack(pack(x)) is x for random even-length index arrays", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4095 }), { maxLength: 400 }), (xs) => {
        const even = xs.length % 2 === 0 ? xs : xs.slice(1);
        expect(Array.from(unpack12(pack12(even), even.length))).toEqual(even);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a byte length that is not 3 per pair", () => {
    expect(() => unpack12(new Uint8Array(4))).toThrowError(expect.objectContaining({ code: "PACK12_LENGTH_INVALID" }));
    expect(() => unpack12(new Uint8Array(6), 2)).toThrowError(
      expect.objectContaining({ code: "PACK12_LENGTH_INVALID" }),
    );
  });
});

describe("2-bit code packing", () => {
  it("unpack(pack(codes)) is codes, padding bits stay zero", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 70 }), fc.integer(), (chunks, k, seed) => {
        const next = rng(seed);
        const codes = Uint8Array.from({ length: chunks * k }, () => Math.floor(next() * 4));
        const packed = packCodes(codes, chunks, k);
        expect(packed.length).toBe(chunks * Math.ceil(k / 4));
        expect(unpackCodes(packed, chunks, k)).toEqual(codes);
        const tail = k % 4;
        if (tail) for (let c = 0; c < chunks; c++) expect(packed[(c + 1) * Math.ceil(k / 4) - 1] >> (2 * tail)).toBe(0);
      }),
      RUNS,
    );
  });
});

describe("DCT", () => {
  it("round-trips an h×w chunk with error < 1e-6 and preserves energy", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 7, 16, 40, 64),
        fc.constantFrom(2, 10, 26, 48, 64),
        fc.integer(),
        (h, w, seed) => {
          const x = Float64Array.from(randomValues(rng(seed), h * w, 1));
          const y = x.slice();
          const scratch = new Float64Array(h * w);
          dctChunk(y, h, w, scratch);
          const energy = (a: Float64Array) => a.reduce((s, v) => s + v * v, 0);
          expect(Math.abs(energy(y) - energy(x))).toBeLessThan(1e-9 * Math.max(1, energy(x)));
          idctChunk(y, h, w, scratch);
          let err = 0;
          for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(y[i] - x[i]));
          expect(err).toBeLessThan(1e-6);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("quantization", () => {
  it("codes follow round(c/scale)+2 and each lookup entry is the mean of its bin", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.integer(), (n, seed) => {
        const v = randomValues(rng(seed), n, 0.1);
        const q = quantize(v, 4, 6);
        const sums = [0, 0, 0, 0];
        const counts = [0, 0, 0, 0];
        for (let i = 0; i < n; i++) {
          const c = Math.fround(v[i] - q.shift);
          const want = Math.min(3, Math.max(0, Math.round(c / q.scale + 2)));
          // half-way cases round to even; away from them plain rounding must agree
          if (Math.abs(((c / q.scale + 2) % 1) - 0.5) > 1e-9) expect(q.codes[i]).toBe(want);
          sums[q.codes[i]] += c;
          counts[q.codes[i]]++;
        }
        for (let b = 0; b < 4; b++) expect(q.lookup[b]).toBe(Math.fround(counts[b] ? sums[b] / counts[b] : 0));
      }),
      RUNS,
    );
  });
});

describe("encode → decode", () => {
  for (const compression of [OFF, ON]) {
    it(`keeps exactly the top-k coordinates of each chunk (DCT ${compression.use_dct ? "on" : "off"})`, () => {
      fc.assert(
        fc.property(shapeArb, fc.integer(), (shape, seed) => {
          const layout = paramLayout({ name: "p", shape }, compression);
          const dense = randomValues(rng(seed), layout.numel);
          const param = compressParam(dense, layout, compression);
          const bins = binValues(param.lookup, param.shift);
          const codes = unpackCodes(param.codes, layout.chunks, layout.k);
          const indices = unpack12(param.idxs, layout.chunks * layout.k);
          const decoded = decompressParam(param, layout, compression.use_dct);
          for (let c = 0; c < layout.chunks; c++) {
            const chosen = Array.from(indices.subarray(c * layout.k, (c + 1) * layout.k));
            expect(chosen).toEqual(topkBySort(reference(dense, layout, compression.use_dct, c), layout.k));
            // the decoded chunk, in the coded domain, holds the dequantized values there and zero elsewhere
            const got = reference(decoded, layout, compression.use_dct, c);
            const want = new Float64Array(layout.totalk);
            chosen.forEach((i, t) => {
              want[i] = bins[codes[c * layout.k + t]];
            });
            for (let i = 0; i < layout.totalk; i++) {
              if (compression.use_dct) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
              else expect(got[i]).toBe(want[i]);
            }
          }
        }),
        { numRuns: 40 },
      );
    });
  }

  it("writes a file that validates and reads back to the same compressed parameters", () => {
    const built = buildGradient(11);
    const read = readGradientFile(built.file, { manifest: TEST_MANIFEST, hparams: HPARAMS });
    expect(read.report.metadata).toMatchObject(IDENTITY);
    expect(read.params.map((p) => p.name)).toEqual(TEST_MANIFEST.parameters.map((p) => p.name));
    read.params.forEach((p, i) => {
      const want = built.params[i];
      expect(p.idxs).toEqual(want?.idxs);
      expect(p.codes).toEqual(want?.codes);
      expect(p.lookup).toEqual(want?.lookup);
      expect(p.shift).toBe(want?.shift);
    });
    // the tensor digest ignores metadata: the same gradient from another uid digests the same
    const other = buildGradient(11, TEST_MANIFEST, HPARAMS, { ...IDENTITY, uid: 8, hotkey: "5Other" });
    const otherRead = readGradientFile(other.file, { manifest: TEST_MANIFEST, hparams: HPARAMS });
    expect(otherRead.report.tensorDigest).toBe(read.report.tensorDigest);
    expect(buildGradient(12).file).not.toEqual(built.file);
    expect(
      readGradientFile(buildGradient(12).file, { manifest: TEST_MANIFEST, hparams: HPARAMS }).report.tensorDigest,
    ).not.toBe(read.report.tensorDigest);
  });

  it("undoes an application bit for bit, DCT on and off, logging only what it touched", () => {
    for (const compression of [OFF, ON]) {
      const layouts = gradientLayout(TEST_MANIFEST, compression);
      const built = buildGradient(8, TEST_MANIFEST, { ...HPARAMS, compression });
      const theta = randomValues(rng(3), built.parameters.length, 1);
      const before = theta.slice();
      const undo = new UndoLog();
      applyGradient(theta, built.params, layouts, compression.use_dct, 0.2, undo);
      expect(theta).not.toEqual(before);
      const selected = layouts.reduce((n, l) => n + l.chunks * (compression.use_dct ? l.totalk : l.k), 0);
      expect(undo.size).toBe(selected);
      undo.restore(theta);
      expect(new Uint8Array(theta.buffer)).toEqual(new Uint8Array(before.buffer));
    }
  });

  it("applies θ − lr·g touching only the selected coordinates, identical to subtracting the dense decode", () => {
    const built = buildGradient(5);
    const layouts = gradientLayout(TEST_MANIFEST, OFF);
    const theta = randomValues(rng(99), built.parameters.length, 1);
    const applied = theta.slice();
    applyGradient(applied, built.params, layouts, false, 0.2);
    let offset = 0;
    let touched = 0;
    layouts.forEach((layout, i) => {
      const g = decompressParam(built.params[i] as never, layout, false);
      for (let j = 0; j < layout.numel; j++) {
        expect(applied[offset + j]).toBe(Math.fround(theta[offset + j] - 0.2 * g[j]));
        if (applied[offset + j] !== theta[offset + j]) touched++;
      }
      offset += layout.numel;
    });
    const selected = layouts.reduce((n, l) => n + l.chunks * l.k, 0);
    expect(touched).toBeLessThanOrEqual(selected);
    expect(touched).toBeGreaterThan(selected * 0.9);
  });
});

describe("aggregation", () => {
  it("takes the lower median of peer norms (torch semantics)", () => {
    expect(lowerMedian([Math.sqrt(5), 5])).toBe(Math.sqrt(5));
    expect(lowerMedian([3, 1, 2])).toBe(2);
    expect(lowerMedian([4, 1, 3, 2])).toBe(2);
  });

  it("clips only above-median peers and scatter-means shared coordinates", () => {
    const layouts = gradientLayout(TEST_MANIFEST, OFF);
    const a = buildGradient(1);
    const b = buildGradient(2);
    // the aggregate of [a, a] is a's decode: the mean of equal values, clipped by m/(m + 1e-8),
    // which is 1 up to a float32 ulp (Templar's formula, kept as is)
    const twice = aggregateGradients([a.params, a.params], layouts, false);
    let offset = 0;
    layouts.forEach((layout, i) => {
      const g = decompressParam(a.params[i] as never, layout, false);
      for (let j = 0; j < layout.numel; j++) {
        expect(Math.abs(twice[offset + j] - g[j])).toBeLessThanOrEqual(Math.abs(g[j]) * 1e-6);
      }
      offset += layout.numel;
    });
    // a peer scaled up 1000× is clipped to the median norm
    const loud = a.params.map((p) => ({ ...p, lookup: p.lookup.map((v) => v * 1000), shift: p.shift * 1000 }));
    const factors = clipFactors(
      [loud[0] as never, b.params[0] as never, a.params[0] as never],
      layouts[0] as ParamLayout,
    );
    expect(factors[0]).toBeLessThan(0.01);
    expect(factors[1]).toBeLessThanOrEqual(1);
    expect(Math.min(...factors)).toBeGreaterThan(0);
    const agg = aggregateGradients([loud, b.params, a.params], layouts, false);
    const max = agg.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const single = aggregateGradients([b.params], layouts, false).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(max).toBeLessThan(single * 3);
  });
});

describe("gradient file size without encoding", () => {
  it("gradientFileSize equals the length of the file the encoder writes, header included", () => {
    for (const [seed, manifest] of [
      [1, TEST_MANIFEST],
      [2, { model: "one", parameters: [{ name: "w", shape: [192, 128] }] }],
    ] as const) {
      const { file, layouts } = buildGradient(seed, manifest);
      const { header } = readHeader(file);
      const metadata = parseMetadata(header.__metadata__ as Record<string, string>);
      const size = gradientFileSize(layouts, metadata);
      expect(size.fileBytes).toBe(file.length);
      expect(size.headerBytes).toBe(Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true)));
    }
  });
});
