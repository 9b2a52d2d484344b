// bfloat16 checkpoints: the writer rounds float32 exactly as torch's `.to(torch.bfloat16)` does
// (fixture from torch, scripts/fixtures/bf16-fixtures.py), and a BF16 checkpoint reads back as those
// values in fp32, in half the bytes of an F32 one.
import { describe, expect, it } from "vitest";
import { bfloat16Bytes, readBfloat16 } from "../../schema/codec/safetensors.ts";
import { readCheckpoint, writeCheckpoint } from "../../schema/model/checkpoint.ts";
import rounding from "./fixtures/bf16-rounding.json" with { type: "json" };
import { TEST_MANIFEST } from "./fixtures/gradients.ts";

describe("bfloat16", () => {
  it("rounds every float32 of torch's fixture to torch's bfloat16 bits (ties to even, subnormals, overflow to inf)", () => {
    const f32 = new Float32Array(new Uint32Array(rounding.cases.map((c) => c.f32)).buffer);
    const bits = new Uint16Array(bfloat16Bytes(f32).buffer);
    expect(Array.from(bits)).toEqual(rounding.cases.map((c) => c.bf16));
  });

  it("keeps a NaN a NaN (torch makes it a quiet NaN)", () => {
    const nan = new Float32Array(new Uint32Array([0x7f800001, 0xffc00000]).buffer);
    expect(Array.from(readBfloat16(bfloat16Bytes(nan), 2)).every(Number.isNaN)).toBe(true);
  });

  it("a BF16 checkpoint reads back as the rounded values, in half the data bytes", () => {
    const total = TEST_MANIFEST.parameters.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    const params = Float32Array.from({ length: total }, (_, i) => Math.sin(i) * 0.05);
    const meta = { model: TEST_MANIFEST.model, window: 3, global_step: 2 };
    const f32 = writeCheckpoint(params, TEST_MANIFEST, meta);
    const bf16 = writeCheckpoint(params, TEST_MANIFEST, meta, undefined, "BF16");
    const header = (b: Uint8Array) => Number(new DataView(b.buffer).getBigUint64(0, true));
    expect(bf16.length - 8 - header(bf16)).toBe((f32.length - 8 - header(f32)) / 2);
    const back = readCheckpoint(bf16, TEST_MANIFEST);
    expect(back.metadata).toEqual(meta);
    expect(Array.from(back.params)).toEqual(Array.from(readBfloat16(bfloat16Bytes(params), total)));
    const err = back.params.reduce((m, v, i) => Math.max(m, Math.abs(v - (params[i] as number))), 0);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThanOrEqual(0.05 * 2 ** -8);
  });
});
