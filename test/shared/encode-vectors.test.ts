// The encode test vectors of docs/SPEC.md §3.6 (test/shared/fixtures/encode-vectors.json): the
// reference encoder must still write every vector's file byte for byte in both format versions,
// each file must pass the validator, the two versions must decode to the same dense values and
// differ only in `p.idxs`, and the fixture must carry the record of its check by the independent
// numpy encoder.
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { decompressParam } from "../../schema/codec/decode.ts";
import { encodeGradient } from "../../schema/codec/encode.ts";
import { FORMAT_VERSIONS, type FormatVersion } from "../../schema/codec/format-version.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import { getHparams } from "../../schema/hparams.ts";
import fixture from "./fixtures/encode-vectors.json" with { type: "json" };

type Vector = (typeof fixture.vectors)[number];

function float32s(hex: string): Float32Array {
  const bytes = hexToBytes(hex);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

const fileHex = (v: Vector, version: FormatVersion) => (version === 1 ? v.file_hex_v1 : v.file_hex_v2);

/** Reads a vector's file of `version` with the validator (under the vector's hparams, both versions accepted). */
function read(v: Vector, version: FormatVersion) {
  const base = getHparams("local");
  const file = hexToBytes(fileHex(v, version));
  return readGradientFile(file, {
    manifest: v.manifest,
    hparams: { ...base, compression: v.compression, sync: v.sync, intake: { ...base.intake, format_versions: [1, 2] } },
    size: file.length,
    expect: v.identity,
  });
}

const cases = fixture.vectors.flatMap((v) => FORMAT_VERSIONS.map((version) => [v.name, version, v] as const));

describe("encode test vectors", () => {
  it("holds the documented cases in every format version, all checked by the numpy sketch of SPEC §9", () => {
    const names = fixture.vectors.map((v) => v.name);
    expect(names).toEqual(["small", "small-dct", "ties-and-zeros", "spec-example"]);
    // one file per version this code writes, and no other
    expect(FORMAT_VERSIONS).toEqual([1, 2]);
    for (const v of fixture.vectors)
      expect(Object.keys(v).filter((k) => k.startsWith("file_hex"))).toEqual(["file_hex_v1", "file_hex_v2"]);
    expect(fixture.numpy_check.agreed).toBe(true);
    expect(fixture.numpy_check.vectors).toEqual(names);
    expect(fixture.numpy_check.format_versions).toEqual([...FORMAT_VERSIONS]);
  });

  it.each(cases)("%s, version %i: the reference encoder writes the same bytes, which validate", (_n, version, v) => {
    const layouts = gradientLayout(v.manifest, v.compression);
    const { file } = encodeGradient({
      identity: v.identity,
      gradient: float32s(v.gradient_f32le),
      parameters: float32s(v.parameters_f32le),
      layouts,
      compression: v.compression,
      sync: v.sync,
      formatVersion: version,
    });
    expect(bytesToHex(file)).toBe(fileHex(v, version));
    const { report } = read(v, version);
    expect(report.bytes).toBe(file.length);
    expect(report.metadata.format_version).toBe(version);
  });

  it.each(fixture.vectors.map((v) => [v.name, v] as const))(
    "%s: versions 1 and 2 differ only in p.idxs and decode to the same dense values",
    (_n, v) => {
      const one = read(v, 1);
      const two = read(v, 2);
      expect(one.params.map((p) => p.name)).toEqual(two.params.map((p) => p.name));
      let nonzero = 0;
      one.params.forEach((p1, i) => {
        const p2 = two.params[i] as (typeof two.params)[number];
        const layout = one.layouts[i] as (typeof one.layouts)[number];
        // v2 codes the same indices in fewer bytes; codes, lookup and shift are the same bytes
        expect(p2.idxs.length, p1.name).toBeLessThan(p1.idxs.length);
        expect(bytesToHex(p2.codes)).toBe(bytesToHex(p1.codes));
        expect([...p2.lookup]).toEqual([...p1.lookup]);
        expect(Object.is(p2.shift, p1.shift)).toBe(true);
        const d1 = decompressParam(p1, layout, v.compression.use_dct);
        const d2 = decompressParam(p2, layout, v.compression.use_dct);
        expect(bytesToHex(new Uint8Array(d2.buffer))).toBe(bytesToHex(new Uint8Array(d1.buffer)));
        nonzero += d1.filter((x) => x !== 0).length;
      });
      // the comparison compares something: the dense gradients are not all zero
      expect(nonzero).toBeGreaterThan(0);
    },
  );
});
