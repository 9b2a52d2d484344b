// numpy's default_rng(seed).choice(…, replace=False) reproduced: numpy 2.4 vectors
// (docs/PROTOCOL.md §7.1) and the seed vectors of templar-codec.json.
import { blake2b } from "@noble/hashes/blake2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import vectors from "../../../shared/vectors/templar-codec.json" with { type: "json" };
import { choiceWithoutReplacement, windowSeed } from "../../schema/sampling/numpy-random.ts";

describe("numpy-compatible sampling", () => {
  it.each(vectors.window_seed_uid_times_1000003_xor_window_mask32)(
    "window_seed($uid, $window) = $seed",
    ({ uid, window, seed }) => {
      expect(windowSeed(uid, window)).toBe(seed);
    },
  );

  it("reproduces window_seed for the other vectors of docs/PROTOCOL.md §7.1", () => {
    expect(windowSeed(255, 123456)).toBe(254993149);
    expect(windowSeed(5000, 10)).toBe(705047698);
  });

  it("draws numpy's Floyd-path choices", () => {
    expect(choiceWithoutReplacement(42000026, 10_000, 16)).toEqual([
      6489, 8511, 1447, 5941, 1973, 2635, 5076, 8558, 5733, 5790, 4895, 5820, 7529, 3561, 2222, 1023,
    ]);
    expect(choiceWithoutReplacement(42000026, 1_000_000, 30).slice(0, 6)).toEqual([
      579202, 356403, 538526, 197553, 766141, 582399,
    ]);
    const pool = choiceWithoutReplacement(6948239, 3_000_000, 30720);
    expect(pool.slice(0, 6)).toEqual([2444494, 69566, 231290, 1412949, 1419227, 947568]);
    expect(new Set(pool).size).toBe(30720);
  });

  it("draws numpy's tail-shuffle-path choices", () => {
    const xs = choiceWithoutReplacement(42000026, 20_000, 1000);
    expect(xs.slice(0, 6)).toEqual([3176, 2113, 9928, 9838, 10739, 17551]);
    expect(xs.reduce((a, b) => a + b, 0)).toBe(9972866);
  });

  it("gives the data-receipt digest of docs/PROTOCOL.md §7.1 (blake2b-128 of the sorted ids as uint64 LE)", () => {
    const ids = choiceWithoutReplacement(42000026, 10_000, 16).sort((a, b) => a - b);
    const bytes = new Uint8Array(ids.length * 8);
    const view = new DataView(bytes.buffer);
    for (const [i, id] of ids.entries()) view.setBigUint64(i * 8, BigInt(id), true);
    expect(bytesToHex(blake2b(bytes, { dkLen: 16 }))).toBe("917f5e6ee4ce93d9744751b3a0e9d48f");
  });
});
