// The encode test vectors of docs/SPEC.md §3.6 (test/shared/fixtures/encode-vectors.json): the
// reference encoder must still write every vector's file byte for byte, each file must pass the
// validator, and the fixture must carry the record of its check by the independent numpy encoder.
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { encodeGradient } from "../../schema/codec/encode.ts";
import { validateGradient } from "../../schema/codec/validate.ts";
import { getHparams } from "../../schema/hparams.ts";
import fixture from "./fixtures/encode-vectors.json" with { type: "json" };

function float32s(hex: string): Float32Array {
  const bytes = hexToBytes(hex);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

describe("encode test vectors", () => {
  it("holds the documented cases, all checked by the numpy sketch of SPEC §9", () => {
    const names = fixture.vectors.map((v) => v.name);
    expect(names).toEqual(["small", "small-dct", "ties-and-zeros", "spec-example"]);
    expect(fixture.numpy_check.agreed).toBe(true);
    expect(fixture.numpy_check.vectors).toEqual(names);
  });

  it.each(fixture.vectors.map((v) => [v.name, v] as const))(
    "%s: the reference encoder writes the same bytes",
    (_n, v) => {
      const layouts = gradientLayout(v.manifest, v.compression);
      const { file } = encodeGradient({
        identity: v.identity,
        gradient: float32s(v.gradient_f32le),
        parameters: float32s(v.parameters_f32le),
        layouts,
        compression: v.compression,
        sync: v.sync,
      });
      expect(bytesToHex(file)).toBe(v.file_hex);
      const base = getHparams("local");
      const report = validateGradient(file, {
        manifest: v.manifest,
        hparams: { ...base, compression: v.compression, sync: v.sync },
        expect: v.identity,
      });
      expect(report.bytes).toBe(file.length);
    },
  );
});
