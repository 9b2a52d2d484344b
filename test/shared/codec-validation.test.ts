// The strict validator against mutated files, in both runtimes and on files of every format
// version: every fault class gives its own code, streamed or whole, and random damage never
// yields anything but a verdict code.

import { decodeAddress, encodeAddress } from "@polkadot/util-crypto";
import { describe, expect, it } from "vitest";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { FORMAT_VERSIONS, type FormatVersion } from "../../schema/codec/format-version.ts";
import { tensorName } from "../../schema/codec/gradient-format.ts";
import { indexBytesPerChunk } from "../../schema/codec/index-coding.ts";
import {
  GradientValidator,
  type ValidationOptions,
  type ValidationReport,
  validateGradient,
} from "../../schema/codec/validate.ts";
import { EdgeError, ERROR_CODES, type ErrorCode } from "../../schema/errors.ts";
import { buildGradient, HPARAMS, IDENTITY, readHeader, rng, TEST_MANIFEST } from "./fixtures/gradients.ts";
import {
  type Base,
  baseFor,
  CLASSES,
  CODE_BEYOND_BINS,
  chunkOf,
  classesFor,
  codeOf,
  efShape,
  int,
  layoutOf,
  type MutationClass,
  options,
  PARTS,
  pick,
  type Rand,
  SMALL_TOPK,
  SMALL_TOPK_CLASSES,
  THREE_BINS,
  UNACCEPTED_VERSION,
} from "./fixtures/mutations.ts";

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

describe.each(FORMAT_VERSIONS)("gradient validator, format version %i", (version) => {
  const bases = [1, 2, 3].map((seed) => baseFor(seed, HPARAMS, IDENTITY, version));
  const smallTopk = [5, 6].map((seed) => baseFor(seed, SMALL_TOPK, IDENTITY, version));
  let total = 0;

  /** Every variant of a class on the given bases refused with its code, whole and in random pieces. */
  function refuses(m: MutationClass, on: readonly Base[]): void {
    const r = rng(m.variants * 7919 + m.code.length + 131 * version);
    for (let v = 0; v < m.variants; v++) {
      const base = on[v % on.length] as Base;
      const { file, options: extra } = m.make(r, base);
      const opts = options(base, { size: file.length, ...extra });
      expect(
        codeOf(() => validateGradient(file, opts)),
        `variant ${v}`,
      ).toBe(m.code);
      expect(streamCode(file, opts, r), `variant ${v}, streamed`).toBe(m.code);
      total++;
    }
  }

  it("accepts the files it is given as a baseline, whole and in random pieces", () => {
    for (const b of [...bases, ...smallTopk]) {
      expect(b.report.metadata.format_version).toBe(version);
      expect(streamCode(b.file, options(b, { size: b.file.length }), rng(b.file.length))).toBe("valid");
      expect(streamCode(b.file, options(b), rng(7))).toBe("valid");
    }
  });

  it.each(classesFor(CLASSES, version))("refuses %s", (_name, m) => refuses(m, bases));

  it.each(classesFor(SMALL_TOPK_CLASSES, version))("refuses %s (small top-k)", (_name, m) => refuses(m, smallTopk));

  it("refuses a version the hparams do not accept, and takes it when they list it alone", () => {
    refuses(UNACCEPTED_VERSION, bases);
    for (const b of bases) {
      const only = { ...b.hparams, intake: { ...b.hparams.intake, format_versions: [version] } };
      expect(codeOf(() => validateGradient(b.file, options(b, { hparams: only })))).toBe("valid");
      const otherVersion: FormatVersion = version === 1 ? 2 : 1;
      const other = { ...b.hparams, intake: { ...b.hparams.intake, format_versions: [otherVersion] } };
      expect(codeOf(() => validateGradient(b.file, options(b, { hparams: other })))).toBe("FORMAT_VERSION_UNSUPPORTED");
    }
  });

  it("small top-k bases have the chunk shapes their classes need", () => {
    const shapes = (smallTopk[0] as Base).layouts.map((l) => ({ l, s: efShape(l) }));
    expect(shapes.some(({ l, s }) => s.lowBits > 0 && l.totalk % 2 ** s.lowBits !== 0)).toBe(true);
    expect(shapes.some(({ s }) => (s.k * s.lowBits) % 8 !== 0)).toBe(true);
    // and the test manifest under HPARAMS has none: an index past totalk cannot even be coded there
    const usual = (bases[0] as Base).layouts.map((l) => ({ l, s: efShape(l) }));
    expect(usual.every(({ l, s }) => l.totalk % 2 ** s.lowBits === 0 && (s.k * s.lowBits) % 8 === 0)).toBe(true);
  });

  it("takes the metadata's hotkey under any ss58 prefix as the signed one's public key", () => {
    const b = bases[0] as Base;
    const signed = b.report.metadata.hotkey;
    const kusama = encodeAddress(decodeAddress(signed), 2);
    expect(kusama).not.toBe(signed);
    expect(codeOf(() => validateGradient(b.file, options(b, { expect: { hotkey: kusama } })))).toBe("valid");
    const other = encodeAddress(new Uint8Array(32).fill(9), 42);
    expect(codeOf(() => validateGradient(b.file, options(b, { expect: { hotkey: other } })))).toBe("METADATA_MISMATCH");
  });

  it("refuses a file shorter than 8 + N as a bad header length, with or without its size", () => {
    const b = bases[0] as Base;
    for (const cut of [0, 5, 8, 20]) {
      const file = b.file.subarray(0, cut);
      const streamed = () => {
        const v = new GradientValidator(options(b));
        v.push(file);
        return v.end();
      };
      expect(codeOf(streamed)).toBe("HEADER_LENGTH_INVALID");
      expect(codeOf(() => validateGradient(file, options(b)))).toBe("HEADER_LENGTH_INVALID");
    }
  });

  it("refuses a code at or above the bin count", () => {
    const base = baseFor(4, THREE_BINS, IDENTITY, version);
    const r = rng(3);
    for (let v = 0; v < CODE_BEYOND_BINS.variants; v++) {
      const { file } = CODE_BEYOND_BINS.make(r, base);
      expect(codeOf(() => validateGradient(file, options(base)))).toBe("CODE_OUT_OF_RANGE");
      total++;
    }
  });

  it(`refused at least 1,000 mutated files of version ${version}, each with its class's code`, () => {
    console.info(`format version ${version}: ${total} mutated files refused`);
    expect(total).toBeGreaterThanOrEqual(1000);
  });

  it("never throws an uncoded error on random damage, and only verdict codes", () => {
    const r = rng(2024 + version);
    const seen = new Map<string, number>();
    const all = [...bases, ...smallTopk];
    for (let i = 0; i < 1600; i++) {
      const base = all[i % all.length] as Base;
      let file = base.file.slice();
      const kind = i % 4;
      if (kind === 3) {
        // flips within one parameter's coded indices
        const range = base.report.tensors[tensorName(pick(r, base.layouts).name, "idxs")];
        const { begin, end } = range as { begin: number; end: number };
        for (let f = int(r, 1, 3); f > 0; f--) file[int(r, begin, end - 1)] ^= 1 << int(r, 0, 7);
      } else if (kind === 0) {
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
    // damaged indices reach every index check of the version, and version 1 none of version 2's
    const v2Only: ErrorCode[] = ["INDEX_ORDER_INVALID", "INDEX_CODING_INVALID"];
    for (const code of ["INDEX_OUT_OF_RANGE", "INDEX_DUPLICATE", ...(version === 2 ? v2Only : [])])
      expect(seen.get(code), code).toBeGreaterThan(0);
    if (version === 1) for (const code of v2Only) expect(seen.has(code), code).toBe(false);
  });

  it("holds the header plus one chunk at most, whatever the file size", () => {
    const small = buildGradient(1, TEST_MANIFEST, HPARAMS, IDENTITY, version).file;
    const bigManifest = {
      model: "big",
      parameters: Array.from({ length: 8 }, (_, i) => ({ name: `w${i}`, shape: [1024, 1024] })),
    };
    const big = buildGradient(1, bigManifest, HPARAMS, IDENTITY, version).file;
    const peaks = [small, big].map((file, i) => {
      const manifest = i === 0 ? TEST_MANIFEST : bigManifest;
      const v = new GradientValidator({ manifest, hparams: HPARAMS });
      for (let at = 0; at < file.length; at += 1000) v.push(file.subarray(at, at + 1000));
      const report = v.end();
      expect(report.metadata.format_version).toBe(version);
      const layouts = gradientLayout(manifest, HPARAMS.compression);
      const unit = Math.max(16, ...layouts.map((l) => indexBytesPerChunk(l, version)));
      expect(report.peakBufferedBytes).toBe(8 + report.headerLength + unit);
      return report;
    });
    // the one chunk of the big file: 64×64 at top-64, 96 bytes of 12-bit indices or 64 of Elias-Fano
    const bigUnit = (peaks[1] as ValidationReport).peakBufferedBytes - 8 - (peaks[1] as ValidationReport).headerLength;
    expect(bigUnit).toBe(version === 1 ? 96 : 64);
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
            ? layout.chunks * (version === 1 ? (3 * layout.k) / 2 : efShape(layout).bytes)
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
