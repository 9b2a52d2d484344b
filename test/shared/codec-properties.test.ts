// Properties of the codec, checked on generated inputs, in both runtimes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregateGradients, clipFactors, lowerMedian } from "../../schema/codec/aggregate.ts";
import { gatherChunk, gradientLayout, type ParamLayout, paramLayout } from "../../schema/codec/chunking.ts";
import { packCodes, unpackCodes } from "../../schema/codec/codes2bit.ts";
import { dctChunk, idctChunk } from "../../schema/codec/dct.ts";
import { applyGradient, decompressParam, UndoLog } from "../../schema/codec/decode.ts";
import {
  checkEliasFano,
  decodeEliasFano,
  type EliasFanoShape,
  eliasFanoShape,
  encodeEliasFano,
} from "../../schema/codec/elias-fano.ts";
import { compressParam, gradientFileSize } from "../../schema/codec/encode.ts";
import { FORMAT_VERSIONS } from "../../schema/codec/format-version.ts";
import { parseMetadata } from "../../schema/codec/gradient-format.ts";
import { indexBytesPerChunk, unpackChunkIndices } from "../../schema/codec/index-coding.ts";
import { pack12, unpack12 } from "../../schema/codec/pack12.ts";
import { binValues, quantize } from "../../schema/codec/quantize.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";
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

/** k distinct indices below totalk, ascending (a partial Fisher-Yates shuffle). */
function randomSet(next: () => number, totalk: number, k: number): number[] {
  const pool = Array.from({ length: totalk }, (_, i) => i);
  for (let t = 0; t < k; t++) {
    const j = t + Math.floor(next() * (totalk - t));
    [pool[t], pool[j]] = [pool[j] as number, pool[t] as number];
  }
  return pool.slice(0, k).sort((a, b) => a - b);
}

/** The coding of a set, in a buffer of its own. */
function efBytes(set: readonly number[], shape: EliasFanoShape): Uint8Array {
  const out = new Uint8Array(shape.bytes);
  encodeEliasFano(set, 0, shape, out, 0);
  return out;
}

/** The set a coding checks to, or the code it is refused with. */
function efCheck(bytes: Uint8Array, shape: EliasFanoShape): number[] | ErrorCode {
  const out = new Uint16Array(shape.k);
  try {
    checkEliasFano(bytes, 0, shape, out, "chunk");
  } catch (e) {
    if (e instanceof EdgeError) return e.code;
    throw e;
  }
  return Array.from(out);
}

const INDEX_CODES: readonly ErrorCode[] = [
  "INDEX_OUT_OF_RANGE",
  "INDEX_DUPLICATE",
  "INDEX_ORDER_INVALID",
  "INDEX_CODING_INVALID",
];

/** (totalk, k) pairs: 64×64 at top-64, k = totalk, k = 2, totalk not a power of two, lowBits 0, any. */
const efPairArb = fc.oneof(
  fc.constant([4096, 64] as const),
  fc.integer({ min: 1, max: 400 }).map((n) => [n, n] as const),
  fc.integer({ min: 2, max: 4096 }).map((n) => [n, 2] as const),
  fc.constantFrom([1920, 64], [2025, 64], [4095, 64], [26, 6], [130, 26], [10, 3], [100, 7], [3000, 1]),
  fc
    .integer({ min: 2, max: 600 })
    .chain((n) => fc.integer({ min: Math.floor(n / 2) + 1, max: n }).map((k) => [n, k] as const)),
  fc
    .integer({ min: 1, max: 4096 })
    .chain((n) => fc.integer({ min: 1, max: Math.min(n, 128) }).map((k) => [n, k] as const)),
);

describe("Elias-Fano coding (format version 2)", () => {
  it("has the size of its formula: L the largest with k·2^L ≤ totalk, ceil(U/8) + ceil(k·L/8) bytes", () => {
    for (let totalk = 1; totalk <= 160; totalk++) {
      for (let k = 1; k <= totalk; k++) {
        const lowBits = 31 - Math.clz32(Math.floor(totalk / k)); // 2^L ≤ ⌊totalk/k⌋
        const upperBits = Math.floor((totalk - 1) / 2 ** lowBits) + k;
        const shape = eliasFanoShape(totalk, k);
        expect(k * 2 ** shape.lowBits).toBeLessThanOrEqual(totalk);
        expect(k * 2 ** (shape.lowBits + 1)).toBeGreaterThan(totalk);
        expect(shape).toEqual({
          totalk,
          k,
          lowBits,
          upperBits,
          upperBytes: Math.ceil(upperBits / 8),
          lowBytes: Math.ceil((k * lowBits) / 8),
          bytes: Math.ceil(upperBits / 8) + Math.ceil((k * lowBits) / 8),
        });
      }
    }
    // the chunks of the usual models: 64×64 at top-64 is 16 + 48 bytes, 1920 at top-64 23 + 32
    expect(eliasFanoShape(4096, 64)).toMatchObject({ lowBits: 6, upperBits: 127, upperBytes: 16, lowBytes: 48 });
    expect(eliasFanoShape(1920, 64)).toMatchObject({ lowBits: 4, upperBits: 183, upperBytes: 23, lowBytes: 32 });
    expect(eliasFanoShape(4096, 1)).toMatchObject({ lowBits: 12, upperBits: 1, bytes: 3 });
  });

  it("decode(encode(S)) is S for random sets of every shape, the coding staying within its bytes", () => {
    fc.assert(
      fc.property(efPairArb, fc.integer(), fc.integer({ min: 0, max: 9 }), ([totalk, k], seed, at) => {
        const shape = eliasFanoShape(totalk, k);
        const set = randomSet(rng(seed), totalk, k);
        // the coding written at an offset, with marker bytes on both sides
        const buf = new Uint8Array(at + shape.bytes + 4).fill(0xa5);
        buf.fill(0, at, at + shape.bytes);
        encodeEliasFano(set, 0, shape, buf, at);
        expect(Array.from(buf.subarray(0, at))).toEqual(new Array(at).fill(0xa5));
        expect(Array.from(buf.subarray(at + shape.bytes))).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);
        // exactly k upper bits, all below U
        const upper = buf.subarray(at, at + shape.upperBytes);
        let ones = 0;
        for (let b = 0; b < upper.length * 8; b++) {
          if (((upper[b >> 3] as number) >> (b & 7)) & 1) {
            ones++;
            expect(b).toBeLessThan(shape.upperBits);
          }
        }
        expect(ones).toBe(k);
        const wide = new Int32Array(k + 2).fill(-1);
        decodeEliasFano(buf, at, shape, wide, 1);
        expect(Array.from(wide)).toEqual([-1, ...set, -1]);
        const checked = new Uint16Array(k);
        checkEliasFano(buf, at, shape, checked, "chunk");
        expect(Array.from(checked)).toEqual(set);
        expect(efBytes(set, shape)).toEqual(buf.subarray(at, at + shape.bytes));
      }),
      { numRuns: 300 },
    );
  });

  it("is canonical: any single bit flipped is refused with an index code, or checks to another set coded by exactly those bytes", () => {
    fc.assert(
      fc.property(efPairArb, fc.integer(), ([totalk, k], seed) => {
        const shape = eliasFanoShape(totalk, k);
        const set = randomSet(rng(seed), totalk, k);
        const bytes = efBytes(set, shape);
        expect(efCheck(bytes, shape)).toEqual(set);
        for (let bit = 0; bit < 8 * shape.bytes; bit++) {
          const flipped = bytes.slice();
          flipped[bit >> 3] ^= 1 << (bit & 7);
          const got = efCheck(flipped, shape);
          if (typeof got === "string") {
            expect(INDEX_CODES).toContain(got);
            continue;
          }
          // only a used low bit can give another valid coding: never an upper or a padding bit
          expect(bit).toBeGreaterThanOrEqual(8 * shape.upperBytes);
          expect(bit - 8 * shape.upperBytes).toBeLessThan(k * shape.lowBits);
          expect(got).not.toEqual(set);
          expect(got.every((x, t) => x < totalk && (t === 0 || x > (got[t - 1] as number)))).toBe(true);
          expect(efBytes(got, shape)).toEqual(flipped);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("accepts exactly the C(totalk, k) codings of small shapes, each its set's only one", () => {
    const binomial = (n: number, k: number) => {
      let c = 1;
      for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
      return c;
    };
    // (16, 4): L = 2, 7 upper bits, a full low byte; (10, 3): L = 1, padding in both parts;
    // (4, 4): L = 0, a single set
    for (const [totalk, k] of [
      [16, 4],
      [10, 3],
      [4, 4],
    ] as const) {
      const shape = eliasFanoShape(totalk, k);
      expect(shape.bytes).toBeLessThanOrEqual(2);
      const sets = new Set<string>();
      const bytes = new Uint8Array(shape.bytes);
      for (let n = 0; n < 2 ** (8 * shape.bytes); n++) {
        bytes[0] = n & 0xff;
        if (shape.bytes === 2) bytes[1] = n >> 8;
        const got = efCheck(bytes, shape);
        if (typeof got === "string") continue;
        expect(efBytes(got, shape)).toEqual(bytes);
        sets.add(got.join());
      }
      expect(sets.size).toBe(binomial(totalk, k));
    }
  });

  it("codes a 64×64 chunk at top-64 in 80 bytes with its codes (64 + 16), against 112 in version 1", () => {
    const layout = paramLayout({ name: "w", shape: [128, 192] }, OFF);
    expect([layout.totalk, layout.k, layout.chunks]).toEqual([4096, 64, 6]);
    expect(indexBytesPerChunk(layout, 2) + layout.codeBytesPerChunk).toBe(80);
    expect(indexBytesPerChunk(layout, 1) + layout.codeBytesPerChunk).toBe(112);
    const dense = randomValues(rng(4), layout.numel);
    const v2 = compressParam(dense, layout, OFF, 2);
    expect(v2.idxs.length + v2.codes.length).toBe(6 * 80);
    expect(compressParam(dense, layout, OFF, 1).idxs.length).toBe(6 * 96);
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
    it(`keeps exactly the top-k coordinates of each chunk, either format version (DCT ${compression.use_dct ? "on" : "off"})`, () => {
      fc.assert(
        fc.property(shapeArb, fc.integer(), fc.constantFrom(...FORMAT_VERSIONS), (shape, seed, version) => {
          const layout = paramLayout({ name: "p", shape }, compression);
          const dense = randomValues(rng(seed), layout.numel);
          const param = compressParam(dense, layout, compression, version);
          expect(param.formatVersion).toBe(version);
          expect(param.idxs.length).toBe(layout.chunks * indexBytesPerChunk(layout, version));
          const bins = binValues(param.lookup, param.shift);
          const codes = unpackCodes(param.codes, layout.chunks, layout.k);
          const indices = new Uint16Array(layout.k);
          const decoded = decompressParam(param, layout, compression.use_dct);
          for (let c = 0; c < layout.chunks; c++) {
            unpackChunkIndices(param.idxs, c, layout, version, indices);
            const chosen = Array.from(indices);
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

  it("codes the same selection in both versions: same codes, other index bytes, the same dense result and application", () => {
    fc.assert(
      fc.property(shapeArb, fc.integer(), fc.boolean(), (shape, seed, useDct) => {
        const compression = useDct ? ON : OFF;
        const layout = paramLayout({ name: "p", shape }, compression);
        const dense = randomValues(rng(seed), layout.numel);
        const [v1, v2] = FORMAT_VERSIONS.map((v) => compressParam(dense, layout, compression, v)) as [
          ReturnType<typeof compressParam>,
          ReturnType<typeof compressParam>,
        ];
        expect(v2.codes).toEqual(v1.codes);
        expect(v2.lookup).toEqual(v1.lookup);
        expect(v2.shift).toBe(v1.shift);
        expect(v1.idxs.length).toBe((layout.chunks * 3 * layout.k) / 2);
        expect(v2.idxs.length).toBe(layout.chunks * eliasFanoShape(layout.totalk, layout.k).bytes);
        expect(v2.idxs).not.toEqual(v1.idxs);
        const a = new Uint16Array(layout.k);
        const b = new Uint16Array(layout.k);
        for (let c = 0; c < layout.chunks; c++) {
          unpackChunkIndices(v1.idxs, c, layout, 1, a);
          unpackChunkIndices(v2.idxs, c, layout, 2, b);
          expect(b).toEqual(a);
        }
        const d1 = decompressParam(v1, layout, useDct);
        expect(d1.some((x) => x !== 0)).toBe(true);
        expect(new Uint8Array(decompressParam(v2, layout, useDct).buffer)).toEqual(new Uint8Array(d1.buffer));
        const theta = randomValues(rng(seed + 1), layout.numel, 1);
        const [t1, t2] = [v1, v2].map((p) => {
          const t = theta.slice();
          applyGradient(t, [p], [layout], useDct, 0.3);
          return t;
        }) as [Float32Array, Float32Array];
        expect(t1).not.toEqual(theta);
        expect(new Uint8Array(t2.buffer)).toEqual(new Uint8Array(t1.buffer));
      }),
      { numRuns: 40 },
    );
  });

  it.each(FORMAT_VERSIONS)(
    "writes a version %i file that validates and reads back to the same compressed parameters",
    (version) => {
      const built = buildGradient(11, TEST_MANIFEST, HPARAMS, IDENTITY, version);
      const read = readGradientFile(built.file, { manifest: TEST_MANIFEST, hparams: HPARAMS });
      expect(read.report.metadata).toMatchObject({ ...IDENTITY, format_version: version });
      expect(read.params.map((p) => p.name)).toEqual(TEST_MANIFEST.parameters.map((p) => p.name));
      read.params.forEach((p, i) => {
        const want = built.params[i];
        expect(p.formatVersion).toBe(version);
        expect(p.idxs).toEqual(want?.idxs);
        expect(p.codes).toEqual(want?.codes);
        expect(p.lookup).toEqual(want?.lookup);
        expect(p.shift).toBe(want?.shift);
      });
      // the tensor digest ignores metadata: the same gradient from another uid digests the same
      const other = buildGradient(11, TEST_MANIFEST, HPARAMS, { ...IDENTITY, uid: 8, hotkey: "5Other" }, version);
      const otherRead = readGradientFile(other.file, { manifest: TEST_MANIFEST, hparams: HPARAMS });
      expect(otherRead.report.tensorDigest).toBe(read.report.tensorDigest);
      const twelve = buildGradient(12, TEST_MANIFEST, HPARAMS, IDENTITY, version).file;
      expect(twelve).not.toEqual(built.file);
      expect(readGradientFile(twelve, { manifest: TEST_MANIFEST, hparams: HPARAMS }).report.tensorDigest).not.toBe(
        read.report.tensorDigest,
      );
      // the same gradient in the other version: other index bytes, so another tensor digest
      const otherVersion = buildGradient(11, TEST_MANIFEST, HPARAMS, IDENTITY, version === 1 ? 2 : 1).file;
      expect(
        readGradientFile(otherVersion, { manifest: TEST_MANIFEST, hparams: HPARAMS }).report.tensorDigest,
      ).not.toBe(read.report.tensorDigest);
    },
  );

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
  it.each(FORMAT_VERSIONS)(
    "gradientFileSize equals the length of the version %i file the encoder writes, header included",
    (version) => {
      for (const [seed, manifest] of [
        [1, TEST_MANIFEST],
        [2, { model: "one", parameters: [{ name: "w", shape: [192, 128] }] }],
      ] as const) {
        const { file, layouts } = buildGradient(seed, manifest, HPARAMS, IDENTITY, version);
        const { header } = readHeader(file);
        const metadata = parseMetadata(header.__metadata__ as Record<string, string>);
        expect(metadata.format_version).toBe(version);
        const size = gradientFileSize(layouts, metadata, version);
        expect(size.fileBytes).toBe(file.length);
        expect(size.headerBytes).toBe(Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true)));
      }
    },
  );
});
