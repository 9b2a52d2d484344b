// The strict validator against mutated files, in both runtimes: every fault class gives its
// own code, streamed or whole, and random damage never yields anything but a verdict code.
import { describe, expect, it } from "vitest";
import { gradientLayout, type ParamLayout } from "../../schema/codec/chunking.ts";
import { tensorName } from "../../schema/codec/gradient-format.ts";
import { pack12, unpack12 } from "../../schema/codec/pack12.ts";
import {
  GradientValidator,
  type ValidationOptions,
  type ValidationReport,
  validateGradient,
} from "../../schema/codec/validate.ts";
import { EdgeError, ERROR_CODES, type ErrorCode } from "../../schema/errors.ts";
import type { Hparams } from "../../schema/hparams.ts";
import {
  buildGradient,
  HPARAMS,
  IDENTITY,
  readHeader,
  rewriteHeader,
  rng,
  TEST_MANIFEST,
  withHeaderBytes,
} from "./fixtures/gradients.ts";

type Rand = () => number;
type Header = Record<string, Record<string, unknown>>;

interface Base {
  readonly file: Uint8Array;
  readonly report: ValidationReport;
  readonly layouts: ParamLayout[];
  readonly hparams: Hparams;
}

interface Mutated {
  readonly file: Uint8Array;
  readonly options?: Partial<ValidationOptions>;
}

interface MutationClass {
  readonly code: ErrorCode;
  readonly variants: number;
  readonly make: (r: Rand, base: Base) => Mutated;
}

const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const PARTS = ["idxs", "codes", "lookup", "shift"] as const;

function baseFor(seed: number, hparams: Hparams = HPARAMS): Base {
  const built = buildGradient(seed, TEST_MANIFEST, hparams);
  const report = validateGradient(built.file, { manifest: TEST_MANIFEST, hparams });
  return { file: built.file, report, layouts: built.layouts, hparams };
}

function options(base: Base, extra: Partial<ValidationOptions> = {}): ValidationOptions {
  return { manifest: TEST_MANIFEST, hparams: base.hparams, ...extra };
}

function codeOf(run: () => unknown): ErrorCode | "valid" {
  try {
    run();
    return "valid";
  } catch (e) {
    if (e instanceof EdgeError) return e.code;
    throw e;
  }
}

/** Feeds the validator in random pieces (sizes 1 to 4096 bytes). */
function streamCode(file: Uint8Array, opts: ValidationOptions, r: Rand): ErrorCode | "valid" {
  return codeOf(() => {
    const v = new GradientValidator(opts);
    for (let at = 0; at < file.length; ) {
      const n = Math.min(file.length - at, int(r, 1, 4096));
      v.push(file.subarray(at, at + n));
      at += n;
    }
    return v.end();
  });
}

const header = (file: Uint8Array, edit: (h: Header) => unknown) => rewriteHeader(file, (h) => edit(h as Header));
const meta = (h: Header) => h.__metadata__ as Record<string, unknown>;
const tensorEntries = (h: Header) => Object.keys(h).filter((k) => k !== "__metadata__");
/** The shape of a random idxs or codes tensor of a header, to edit in place. */
const packedShape = (r: Rand, h: Header) =>
  (
    h[
      pick(
        r,
        tensorEntries(h).filter((n) => n.endsWith(".idxs") || n.endsWith(".codes")),
      )
    ] as { shape: number[] }
  ).shape;
const layoutOf = (base: Base, name: string) => base.layouts.find((l) => l.name === name) as ParamLayout;

/** Overwrites bytes of the file at an absolute offset (a copy). */
function patch(file: Uint8Array, at: number, bytes: ArrayLike<number>): Uint8Array {
  const out = file.slice();
  out.set(bytes, at);
  return out;
}

/** A random chunk of a parameter, and the absolute offset of its packed indices. */
function chunkOf(r: Rand, base: Base, layout: ParamLayout) {
  const c = int(r, 0, layout.chunks - 1);
  const range = base.report.tensors[tensorName(layout.name, "idxs")] as { begin: number };
  const at = range.begin + c * layout.idxBytesPerChunk;
  const indices = unpack12(base.file.subarray(at, at + layout.idxBytesPerChunk), layout.k);
  return { c, at, indices };
}

const f32 = (v: number) => new Uint8Array(Float32Array.of(v).buffer);

const REQUIRED_META = ["netuid", "window", "uid", "hotkey", "base_window", "target_chunk", "topk_compression"];
const COMPRESSION_META: Record<string, readonly string[]> = {
  target_chunk: ["32", "16", "128"],
  topk_compression: ["32", "16", "128", "62"],
  quantization_bins: ["2", "3"],
  quantization_range: ["5", "6.5", "4"],
  use_dct: ["true"],
};

const CLASSES: Record<string, MutationClass> = {
  "header length below 2 or above the limit": {
    code: "HEADER_LENGTH_INVALID",
    variants: 50,
    make: (r, b) => {
      const { dataStart } = readHeader(b.file);
      const json = b.file.subarray(8, dataStart);
      const max = b.hparams.limits.max_header_bytes;
      const declared = pick(r, [0n, 1n, BigInt(max + int(r, 1, 1 << 20)), 2n ** 63n + BigInt(int(r, 0, 99))]);
      return { file: withHeaderBytes(b.file.subarray(dataStart), json, declared) };
    },
  },
  "header length past the end of the file": {
    code: "HEADER_LENGTH_INVALID",
    variants: 50,
    make: (r, b) => {
      const cut = int(r, 9, readHeader(b.file).dataStart - 1);
      return { file: b.file.subarray(0, cut) };
    },
  },
  "header that is not JSON of an object": {
    code: "HEADER_JSON_INVALID",
    variants: 60,
    make: (r, b) => {
      const { dataStart } = readHeader(b.file);
      const json = b.file.slice(8, dataStart);
      const kind = int(r, 0, 3);
      if (kind === 0)
        json.fill(0x20, int(r, 1, json.length - 2)); // cut before the closing brace
      else if (kind === 1)
        json[0] = pick(r, [0x5b, 0x20, 0x22, 0x6e]); // [ space " n
      else if (kind === 2)
        json[int(r, 2, json.length - 3)] = pick(r, [0xff, 0xc3, 0x80]); // broken UTF-8
      else
        return {
          file: withHeaderBytes(
            b.file.subarray(dataStart),
            new TextEncoder().encode(pick(r, ["[]", "null", "17", '"x"'])),
          ),
        };
      return { file: withHeaderBytes(b.file.subarray(dataStart), json) };
    },
  },
  "__metadata__ missing, not strings, or a required key absent or malformed": {
    code: "METADATA_INVALID",
    variants: 80,
    make: (r, b) =>
      ({
        file: header(b.file, (h) => {
          const kind = int(r, 0, 4);
          if (kind === 0) delete h.__metadata__;
          else if (kind === 1) h.__metadata__ = pick(r, ["x", [], 3]) as never;
          else if (kind === 2) meta(h)[pick(r, Object.keys(meta(h)))] = pick(r, [1, null, true, ["1"]]);
          else if (kind === 3) delete meta(h)[pick(r, REQUIRED_META)];
          else
            meta(h)[pick(r, ["window", "uid", "netuid", "base_window"])] = pick(r, [
              "01",
              "-3",
              "1.5",
              "",
              "x",
              "99999999999999999",
            ]);
        }),
      }) satisfies Mutated,
  },
  "unknown format or version": {
    code: "FORMAT_VERSION_UNSUPPORTED",
    variants: 40,
    make: (r, b) => ({
      file: header(b.file, (h) => {
        const kind = int(r, 0, 2);
        if (kind === 0) meta(h).format_version = pick(r, ["0", "2", "1.0", ""]);
        else if (kind === 1) meta(h).format = pick(r, ["templar.gradient", "pickle", ""]);
        else delete meta(h)[pick(r, ["format", "format_version"])];
      }),
    }),
  },
  "compression settings differing from the hparams": {
    code: "COMPRESSION_MISMATCH",
    variants: 50,
    make: (r, b) => ({
      file: header(b.file, (h) => {
        const key = pick(r, Object.keys(COMPRESSION_META));
        meta(h)[key] = pick(r, COMPRESSION_META[key] as string[]);
      }),
    }),
  },
  "metadata naming another upload than the signed one": {
    code: "METADATA_MISMATCH",
    variants: 40,
    make: (r, b) => {
      const key = pick(r, ["netuid", "window", "uid", "hotkey"] as const);
      const wrong = key === "hotkey" ? `5Wrong${int(r, 0, 999)}` : IDENTITY[key] + int(r, 1, 50);
      return { file: b.file, options: { expect: { ...IDENTITY, [key]: wrong } } };
    },
  },
  "param_sample not JSON, or not the required parameters and finite values": {
    code: "PARAM_SAMPLE_INVALID",
    variants: 60,
    make: (r, b) => ({
      file: header(b.file, (h) => {
        const sample = JSON.parse(meta(h).param_sample as string) as Record<string, unknown>;
        const names = Object.keys(sample);
        const kind = int(r, 0, 5);
        if (kind === 0) meta(h).param_sample = pick(r, ["{", "nan", ""]);
        else if (kind === 1) meta(h).param_sample = pick(r, ["[]", "3", "null"]);
        else {
          if (kind === 2) delete sample[pick(r, names)];
          else if (kind === 3)
            sample[pick(r, ["ghost", "layers.0.norm"])] = [0, 0]; // unknown, or too short to sample
          else if (kind === 4) sample[pick(r, names)] = pick(r, [[1], [1, 2, 3], []]);
          else sample[pick(r, names)] = [pick(r, [null, "1", true]), 0];
          meta(h).param_sample = JSON.stringify(sample);
        }
      }),
    }),
  },
  "a required tensor missing": {
    code: "TENSOR_MISSING",
    variants: 40,
    make: (r, b) => ({ file: header(b.file, (h) => void delete h[pick(r, tensorEntries(h))]) }),
  },
  "a tensor of an unknown parameter or part": {
    code: "TENSOR_UNEXPECTED",
    variants: 40,
    make: (r, b) => ({
      file: header(b.file, (h) => {
        const from = pick(r, tensorEntries(h));
        const name = pick(r, ["ghost.idxs", "tok_emb.vals", "tok_emb", "norm.quant_params", ".idxs"]);
        h[name] = { ...(h[from] as object) };
      }),
    }),
  },
  "a tensor of the wrong dtype": {
    code: "DTYPE_INVALID",
    variants: 50,
    make: (r, b) => ({
      file: header(b.file, (h) => {
        const name = pick(r, tensorEntries(h));
        const want = (h[name] as { dtype: string }).dtype;
        (h[name] as { dtype: string }).dtype = pick(
          r,
          ["U8", "F32", "I16", "F16", "BF16", "U16", "F64", "I8", "u8"].filter((d) => d !== want),
        );
      }),
    }),
  },
  "a tensor of the wrong rank": {
    code: "SHAPE_MISMATCH",
    variants: 50,
    make: (r, b) => ({
      file: header(b.file, (h) => {
        const name = pick(r, tensorEntries(h));
        const entry = h[name] as { shape: number[] };
        if (name.endsWith(".shift")) entry.shape = [1];
        else if (name.endsWith(".lookup")) entry.shape = pick(r, [[], [2, 2], [1, 4]]);
        else entry.shape = r() < 0.5 ? [...entry.shape, 1] : entry.shape.slice(1);
      }),
    }),
  },
  "indices or codes with a wrong chunk grid": {
    code: "LEADING_DIMS_MISMATCH",
    variants: 50,
    make: (r, b) => ({
      file: header(b.file, (h) => {
        const shape = packedShape(r, h);
        const d = int(r, 0, shape.length - 2);
        shape[d] = (shape[d] as number) + pick(r, [1, 2, -1, 7]);
        if (shape[d] === 0) shape[d] = 1000;
      }),
    }),
  },
  "indices or codes not holding exactly k per chunk": {
    code: "TOPK_MISMATCH",
    variants: 50,
    make: (r, b) => ({
      file: header(b.file, (h) => {
        const shape = packedShape(r, h);
        const last = shape.length - 1;
        shape[last] = (shape[last] as number) + pick(r, [3, 1, -1, 6, 96]);
      }),
    }),
  },
  "a lookup with another length than the bin count": {
    code: "LOOKUP_LENGTH_INVALID",
    variants: 40,
    make: (r, b) => ({
      file: header(b.file, (h) => {
        const name = pick(
          r,
          tensorEntries(h).filter((n) => n.endsWith(".lookup")),
        );
        (h[name] as { shape: number[] }).shape = [pick(r, [0, 1, 2, 3, 5, 8, 256])];
      }),
    }),
  },
  "data_offsets with holes, overlaps, or the wrong size": {
    code: "LAYOUT_INVALID",
    variants: 60,
    make: (r, b) => {
      const kind = int(r, 0, 2);
      if (kind === 2) {
        // a hole: every tensor from a random one on moves by d bytes, d bytes inserted
        const { header: h, dataStart } = readHeader(b.file);
        const entries = tensorEntries(h as Header).map((n) => (h as Header)[n] as { data_offsets: [number, number] });
        const cutAt = pick(r, entries).data_offsets[0];
        const d = int(r, 1, 16);
        for (const e of entries)
          if (e.data_offsets[0] >= cutAt) e.data_offsets = [e.data_offsets[0] + d, e.data_offsets[1] + d];
        const data = b.file.subarray(dataStart);
        const widened = new Uint8Array(data.length + d);
        widened.set(data.subarray(0, cutAt));
        widened.set(data.subarray(cutAt), cutAt + d);
        return { file: withHeaderBytes(widened, new TextEncoder().encode(JSON.stringify(h))) };
      }
      return {
        file: header(b.file, (h) => {
          const names = tensorEntries(h);
          const name = pick(r, names);
          const entry = h[name] as { data_offsets: [number, number] };
          if (kind === 0) entry.data_offsets = [entry.data_offsets[0], entry.data_offsets[1] + pick(r, [1, -1, 4])];
          else {
            // overlap: point a scalar shift at another parameter's shift bytes
            const shifts = names.filter((n) => n.endsWith(".shift"));
            const a = pick(r, shifts);
            const other = pick(
              r,
              shifts.filter((n) => n !== a),
            );
            (h[a] as { data_offsets: [number, number] }).data_offsets = [
              ...(h[other] as { data_offsets: [number, number] }).data_offsets,
            ];
          }
        }),
      };
    },
  },
  "an index not below the chunk size": {
    code: "INDEX_OUT_OF_RANGE",
    variants: 60,
    make: (r, b) => {
      // chunks of 4096 elements cannot hold an out-of-range 12-bit index
      const layout = pick(
        r,
        b.layouts.filter((l) => l.totalk < 4096),
      );
      const { at, indices } = chunkOf(r, b, layout);
      const t = int(r, 0, layout.k - 1);
      indices[t] = int(r, layout.totalk, 4095);
      return { file: patch(b.file, at, pack12(indices)) };
    },
  },
  "an index repeated within a chunk": {
    code: "INDEX_DUPLICATE",
    variants: 60,
    make: (r, b) => {
      const layout = pick(r, b.layouts);
      const { at, indices } = chunkOf(r, b, layout);
      const t = int(r, 0, layout.k - 1);
      let u = int(r, 0, layout.k - 2);
      if (u >= t) u++;
      indices[t] = indices[u] as number;
      return { file: patch(b.file, at, pack12(indices)) };
    },
  },
  "padding bits set after a chunk's last code": {
    code: "CODE_OUT_OF_RANGE",
    variants: 40,
    make: (r, b) => {
      const layout = pick(
        r,
        b.layouts.filter((l) => l.k % 4 !== 0),
      );
      const c = int(r, 0, layout.chunks - 1);
      const range = b.report.tensors[tensorName(layout.name, "codes")] as { begin: number };
      const at = range.begin + (c + 1) * layout.codeBytesPerChunk - 1;
      const firstPad = (layout.k % 4) * 2;
      const bit = 1 << int(r, firstPad, 7);
      return { file: patch(b.file, at, [(b.file[at] as number) | bit]) };
    },
  },
  "a non-finite lookup or shift, or one overflowing float32 when added": {
    code: "NON_FINITE",
    variants: 60,
    make: (r, b) => {
      const layout = pick(r, b.layouts);
      const kind = int(r, 0, 2);
      const lookup = b.report.tensors[tensorName(layout.name, "lookup")] as { begin: number };
      const shift = b.report.tensors[tensorName(layout.name, "shift")] as { begin: number };
      const bad = pick(r, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      if (kind === 0) return { file: patch(b.file, lookup.begin + 4 * int(r, 0, 3), f32(bad)) };
      if (kind === 1) return { file: patch(b.file, shift.begin, f32(bad)) };
      const both = patch(b.file, shift.begin, f32(3e38));
      return { file: patch(both, lookup.begin + 4 * int(r, 0, 3), f32(3e38)) };
    },
  },
  "a file cut inside its tensor data": {
    code: "TRUNCATED",
    variants: 60,
    make: (r, b) => ({ file: b.file.subarray(0, int(r, readHeader(b.file).dataStart, b.file.length - 1)) }),
  },
  "bytes after the last tensor": {
    code: "TRAILING_BYTES",
    variants: 40,
    make: (r, b) => {
      const extra = Uint8Array.from({ length: int(r, 1, 300) }, () => int(r, 0, 255));
      const out = new Uint8Array(b.file.length + extra.length);
      out.set(b.file);
      out.set(extra, b.file.length);
      return { file: out };
    },
  },
};

// bins = 3 leaves the 2-bit code 3 unused: a file that uses it must be refused.
const THREE_BINS: Hparams = { ...HPARAMS, compression: { ...HPARAMS.compression, quantization_bins: 3 } };
const CODE_BEYOND_BINS: MutationClass = {
  code: "CODE_OUT_OF_RANGE",
  variants: 40,
  make: (r, b) => {
    const layout = pick(r, b.layouts);
    const c = int(r, 0, layout.chunks - 1);
    const range = b.report.tensors[tensorName(layout.name, "codes")] as { begin: number };
    const i = int(r, 0, layout.k - 1);
    const at = range.begin + c * layout.codeBytesPerChunk + (i >> 2);
    return { file: patch(b.file, at, [(b.file[at] as number) | (3 << ((i & 3) * 2))]) };
  },
};

describe("gradient validator", () => {
  const bases = [baseFor(1), baseFor(2), baseFor(3)];
  let total = 0;

  it("accepts the files it is given as a baseline, whole and in random pieces", () => {
    for (const b of bases) {
      expect(streamCode(b.file, options(b, { size: b.file.length }), rng(b.file.length))).toBe("valid");
      expect(streamCode(b.file, options(b), rng(7))).toBe("valid");
    }
  });

  it.each(Object.entries(CLASSES))("refuses %s", (_name, m) => {
    const r = rng(m.variants * 7919 + m.code.length);
    for (let v = 0; v < m.variants; v++) {
      const base = bases[v % bases.length] as Base;
      const { file, options: extra } = m.make(r, base);
      const opts = options(base, { size: file.length, ...extra });
      expect(
        codeOf(() => validateGradient(file, opts)),
        `variant ${v}`,
      ).toBe(m.code);
      expect(streamCode(file, opts, r), `variant ${v}, streamed`).toBe(m.code);
      total++;
    }
  });

  it("refuses a code at or above the bin count", () => {
    const base = baseFor(4, THREE_BINS);
    const r = rng(3);
    for (let v = 0; v < CODE_BEYOND_BINS.variants; v++) {
      const { file } = CODE_BEYOND_BINS.make(r, base);
      expect(codeOf(() => validateGradient(file, options(base)))).toBe("CODE_OUT_OF_RANGE");
      total++;
    }
  });

  it("refused at least 1,000 mutated files, each with its class's code", () => {
    expect(total).toBeGreaterThanOrEqual(1000);
  });

  it("never throws an uncoded error on random damage, and only verdict codes", () => {
    const r = rng(2024);
    const seen = new Map<string, number>();
    for (let i = 0; i < 1500; i++) {
      const base = bases[i % bases.length] as Base;
      let file = base.file.slice();
      const kind = i % 3;
      if (kind === 0) {
        for (let f = int(r, 1, 8); f > 0; f--) file[int(r, 0, file.length - 1)] ^= 1 << int(r, 0, 7);
      } else if (kind === 1) {
        const { dataStart } = readHeader(file);
        for (let f = int(r, 1, 4); f > 0; f--) file[int(r, 8, dataStart - 1)] = int(r, 0x20, 0x7e);
      } else {
        file = file.subarray(0, int(r, 0, file.length));
      }
      let code: string;
      try {
        validateGradient(file, options(base));
        code = "valid";
      } catch (e) {
        expect(e, `case ${i}`).toBeInstanceOf(EdgeError);
        code = (e as EdgeError).code;
        expect(ERROR_CODES[code as ErrorCode].stage, code).toBe("verdict");
      }
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
    // random damage reaches many distinct checks, not one catch-all
    expect(seen.size).toBeGreaterThanOrEqual(8);
  });

  it("holds the header plus one chunk at most, whatever the file size", () => {
    const small = buildGradient(1).file;
    const bigManifest = {
      model: "big",
      parameters: Array.from({ length: 8 }, (_, i) => ({ name: `w${i}`, shape: [1024, 1024] })),
    };
    const big = buildGradient(1, bigManifest).file;
    const peaks = [small, big].map((file, i) => {
      const manifest = i === 0 ? TEST_MANIFEST : bigManifest;
      const v = new GradientValidator({ manifest, hparams: HPARAMS });
      for (let at = 0; at < file.length; at += 1000) v.push(file.subarray(at, at + 1000));
      const report = v.end();
      const layouts = gradientLayout(manifest, HPARAMS.compression);
      const unit = Math.max(16, ...layouts.map((l) => l.idxBytesPerChunk));
      expect(report.peakBufferedBytes).toBe(8 + report.headerLength + unit);
      return report;
    });
    expect(big.length).toBeGreaterThan(40 * small.length);
    expect((peaks[1] as ValidationReport).peakBufferedBytes).toBeLessThan(big.length / 20);
  });

  it("keeps failing with the first fault once it has failed", () => {
    const b = bases[0] as Base;
    const v = new GradientValidator(options(b));
    const broken = b.file.slice();
    broken.set([1, 0, 0, 0, 0, 0, 0, 0], 0); // header length 1
    expect(() => v.push(broken.subarray(0, 16))).toThrowError(
      expect.objectContaining({ code: "HEADER_LENGTH_INVALID" }),
    );
    expect(() => v.push(b.file.subarray(16))).toThrowError(expect.objectContaining({ code: "HEADER_LENGTH_INVALID" }));
    expect(() => v.end()).toThrowError(expect.objectContaining({ code: "HEADER_LENGTH_INVALID" }));
  });

  it("captures the index sets of the requested fingerprint chunks", () => {
    const b = bases[0] as Base;
    const report = validateGradient(b.file, options(b, { fingerprintChunks: (l) => [0, l.chunks - 1] }));
    const layout = layoutOf(b, "tok_emb");
    const { indices } = chunkOf(() => 0, b, layout);
    expect(report.fingerprint.tok_emb?.[0]).toEqual(Array.from(indices));
    expect(Object.keys(report.fingerprint.tok_emb ?? {})).toEqual(["0", String(layout.chunks - 1)]);
  });

  it("reports tensor ranges that point at each tensor's bytes", () => {
    const b = bases[1] as Base;
    for (const layout of b.layouts) {
      for (const part of PARTS) {
        const r = b.report.tensors[tensorName(layout.name, part)] as { begin: number; end: number };
        expect(r.end - r.begin).toBe(
          part === "idxs"
            ? layout.chunks * layout.idxBytesPerChunk
            : part === "codes"
              ? layout.chunks * layout.codeBytesPerChunk
              : part === "lookup"
                ? 16
                : 4,
        );
      }
    }
  });
});
