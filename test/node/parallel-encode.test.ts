// The parallel encoder writes encodeGradient's bytes whatever its thread count, in both format
// versions; a worker's NON_FINITE reaches the caller as an EdgeError; the pool closes cleanly.
import { afterAll, describe, expect, it } from "vitest";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { type EncodeRequest, encodeGradient } from "../../schema/codec/encode.ts";
import { FORMAT_VERSIONS } from "../../schema/codec/format-version.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { CompressionHparams } from "../../schema/hparams.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { isShared, ParallelEncoder, sharedFloat32Array } from "../../scripts/miner/parallel-encode.ts";
import { HPARAMS, IDENTITY, randomValues, rng, TEST_MANIFEST } from "../shared/fixtures/gradients.ts";

const OFF: CompressionHparams = { ...HPARAMS.compression, target_chunk: 64, topk_compression: 64, use_dct: false };

/** Odd chunk counts (15, 7, 13), a parameter of more chunks than one task takes (289), 1-D and 2-D. */
const ODD_MANIFEST: ModelManifest = {
  model: "odd-chunks",
  parameters: [
    { name: "a", shape: [192, 320] },
    { name: "b", shape: [448, 64] },
    { name: "bias", shape: [832] },
    { name: "big", shape: [1088, 1088] },
    { name: "tail", shape: [96, 40] },
  ],
};

const CASES = [
  { label: "codec test manifest, local hparams", manifest: TEST_MANIFEST, compression: HPARAMS.compression },
  { label: "odd chunk counts, 64×64 chunks, top-64", manifest: ODD_MANIFEST, compression: OFF },
  {
    label: "codec test manifest, DCT on",
    manifest: TEST_MANIFEST,
    compression: { ...HPARAMS.compression, use_dct: true },
  },
];

const pools = new Map<number, ParallelEncoder>();
function pool(threads: number): ParallelEncoder {
  let p = pools.get(threads);
  if (!p) {
    p = new ParallelEncoder(threads);
    pools.set(threads, p);
  }
  return p;
}

afterAll(async () => {
  for (const p of pools.values()) await p.close();
});

function request(manifest: ModelManifest, compression: CompressionHparams, seed: number): EncodeRequest {
  const layouts = gradientLayout(manifest, compression);
  const n = layouts.reduce((s, l) => s + l.numel, 0);
  const next = rng(seed);
  // Rows of very different scale, so chunk after chunk the threshold guess is off.
  const gradient = randomValues(next, n).map((v, i) => v * 2 ** ((Math.floor(i / 64) % 7) * 5 - 15));
  return { identity: IDENTITY, gradient, parameters: randomValues(next, n), layouts, compression, sync: HPARAMS.sync };
}

describe("parallel encoder", () => {
  for (const { label, manifest, compression } of CASES) {
    for (const version of FORMAT_VERSIONS) {
      it(`${label}, format v${version}: 1 to 4 threads give encodeGradient's bytes`, async () => {
        const req = { ...request(manifest, compression, 11 + version), formatVersion: version };
        const expected = encodeGradient(req);
        // In the pool's wasm memory (SIMD scan), copied there, or in a plain SharedArrayBuffer (scan in JavaScript).
        const shared = sharedFloat32Array(req.gradient.length);
        shared.set(req.gradient);
        const plain = new Float32Array(new SharedArrayBuffer(req.gradient.length * 4));
        plain.set(req.gradient);
        expect(isShared(shared) && isShared(plain)).toBe(true);
        for (const threads of [1, 2, 3, 4]) {
          for (const gradient of [req.gradient, shared, plain]) {
            const got = await pool(threads).encode({ ...req, gradient });
            expect(Buffer.from(got.file).equals(Buffer.from(expected.file))).toBe(true);
            expect(got.params.map((p) => p.formatVersion)).toEqual(expected.params.map(() => version));
          }
        }
        // The caller's gradient is read, never written.
        expect(Array.from(shared)).toEqual(Array.from(req.gradient));
      });
    }
  }

  it("reads each encode's own gradient while copying it in: two gradients in turn through one pool", async () => {
    const first = request(ODD_MANIFEST, OFF, 21);
    const second = request(ODD_MANIFEST, OFF, 22);
    for (const threads of [2, 3]) {
      for (const req of [first, second, first]) {
        const got = await pool(threads).encode(req);
        expect(Buffer.from(got.file).equals(Buffer.from(encodeGradient(req).file))).toBe(true);
      }
    }
  });

  it("reports a worker's NON_FINITE as an EdgeError, then encodes again", async () => {
    const req = request(ODD_MANIFEST, OFF, 5);
    const bad = Float32Array.from(req.gradient);
    bad[bad.length - 100] = Number.NaN;
    for (const threads of [1, 3]) {
      const failure = await pool(threads)
        .encode({ ...req, gradient: bad })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(failure).toBeInstanceOf(EdgeError);
      expect((failure as EdgeError).code).toBe("NON_FINITE");
      expect((failure as EdgeError).message).toMatch(/parameter tail holds a non-finite value in chunk \d+/);
      const again = await pool(threads).encode(req);
      expect(Buffer.from(again.file).equals(Buffer.from(encodeGradient(req).file))).toBe(true);
    }
  });

  it("refuses a gradient of the wrong length, as encodeGradient does", async () => {
    const req = request(TEST_MANIFEST, HPARAMS.compression, 3);
    await expect(pool(2).encode({ ...req, gradient: req.gradient.subarray(1) })).rejects.toMatchObject({
      code: "ENCODE_INPUT_INVALID",
    });
  });

  it("closes: its workers stop, and it refuses further encodes", async () => {
    const p = new ParallelEncoder(2);
    const req = request(TEST_MANIFEST, HPARAMS.compression, 4);
    await p.encode(req);
    await p.close();
    await p.close();
    await expect(p.encode(req)).rejects.toThrow(/closed/);
  });
});
