// Timelocked weights commits against drand quicknet's real signatures: the key and round messages
// verify, and what encryptCommit writes decrypts, by a decryptor written from the chain's reveal,
// into exactly the payload with the validator's hotkey. Runs in workerd and in Node.
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { decodeAddress } from "@polkadot/util-crypto";
import { describe, expect, it } from "vitest";
import { EdgeError } from "../../schema/errors.ts";
import { QUICKNET, quicknetRoundAt, quicknetRoundMessage } from "../../schema/weights/drand-quicknet.ts";
import { encryptCommit, MAX_COMMIT_BYTES } from "../../schema/weights/timelock-commit.ts";
import { encodeWeightsTlockPayload, type WeightsTlockPayload } from "../../schema/weights/tlock-payload.ts";
import { revealAsChain } from "./support/chain-decrypt.ts";

/** drand quicknet signatures stored by subtensor's tests (pallets/drand/src/tests.rs:43, pallets/commitments/src/mock.rs:201). */
const SIGNATURES: Record<number, Uint8Array> = {
  1000: hexToBytes("b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39"),
  2000: hexToBytes("b6cb8f482a0b15d45936a4c4ea08e98a087e71787caee3f4d07a8a9843b1bc5423c6b3c22f446488b3137eaca799c77e"),
};
const ROUNDS = [1000, 2000] as const;

const ALICE = decodeAddress("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
const BOB = decodeAddress("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
const FIXED = {
  esk: new Uint8Array(32).fill(0x11),
  sigma: new Uint8Array(32).fill(0x22),
  nonce: new Uint8Array(12).fill(0x33),
};

const payloadOf = (hotkey: Uint8Array, n: number): WeightsTlockPayload => ({
  hotkey,
  uids: Array.from({ length: n }, (_, i) => i),
  values: Array.from({ length: n }, (_, i) => (i === 0 ? 65535 : (i * 257) % 65536)),
  versionKey: 9010001n,
});

describe("drand quicknet", () => {
  const key = bls12_381.G2.Point.fromBytes(hexToBytes(QUICKNET.publicKeyHex));
  const verifies = (round: number, signature: Uint8Array) => {
    const message = bls12_381.G1.hashToCurve(quicknetRoundMessage(round), { DST: QUICKNET.dst });
    const lhs = bls12_381.pairing(bls12_381.G1.Point.fromBytes(signature), bls12_381.G2.Point.BASE);
    return bls12_381.fields.Fp12.eql(lhs, bls12_381.pairing(message, key));
  };

  it("verifies the real signatures of rounds 1000 and 2000 for their own round only", () => {
    for (const round of ROUNDS) {
      expect(verifies(round, SIGNATURES[round] as Uint8Array), `round ${round}`).toBe(true);
      for (const other of [round - 1, round + 1, round === 1000 ? 2000 : 1000, round * 10])
        expect(verifies(other, SIGNATURES[round] as Uint8Array), `round ${round}'s signature for ${other}`).toBe(false);
    }
  });

  it("has the round message sha256(be64(round)), and randomness sha256(signature)", () => {
    expect(bytesToHex(quicknetRoundMessage(1000))).toBe(
      "f652498d092acd949bad74e40683bf3824fb817980504a0c7e6722cfc5a9c0a3",
    );
    expect(bytesToHex(sha256(SIGNATURES[1000] as Uint8Array))).toBe(
      "fe290beca10872ef2fb164d2aa4442de4566183ec51c56ff3cd603d930e54fdd",
    );
    expect(() => quicknetRoundMessage(0)).toThrow(RangeError);
  });

  it("maps a time to the round the SDK targets: floor((t − genesis) / 3)", () => {
    expect(quicknetRoundAt(QUICKNET.genesisSeconds)).toBe(0);
    expect(quicknetRoundAt(QUICKNET.genesisSeconds + 3 * 1000 + 1)).toBe(1000);
    expect(quicknetRoundAt(QUICKNET.genesisSeconds + 3 * 1000 - 1)).toBe(999);
    expect(quicknetRoundAt(QUICKNET.genesisSeconds - 1)).toBe(-1); // before genesis: no round is out
    expect(() => quicknetRoundAt(Number.NaN)).toThrow(RangeError);
  });
});

describe("the weights payload", () => {
  it("encodes the reference vector byte for byte", () => {
    const bytes = encodeWeightsTlockPayload({
      hotkey: new Uint8Array(32).fill(0xab),
      uids: [1, 2],
      values: [65535, 32768],
      versionKey: 9010001,
    });
    expect(bytesToHex(bytes)).toBe(
      // hotkey: Vec<u8> of 32 | uids: Vec<u16> [1, 2] | values: Vec<u16> [65535, 32768] | version_key: u64 LE
      ["80", "ab".repeat(32), "0801000200", "08ffff0080", "517b890000000000"].join(""),
    );
  });

  it("refuses what the chain would read differently or drop", () => {
    const ok = payloadOf(ALICE, 2);
    expect(() => encodeWeightsTlockPayload({ ...ok, hotkey: ALICE.subarray(0, 31) })).toThrow(RangeError);
    expect(() => encodeWeightsTlockPayload({ ...ok, values: [1] })).toThrow(RangeError);
    expect(() => encodeWeightsTlockPayload({ ...ok, uids: [0, 65536] })).toThrow(RangeError);
    expect(() => encodeWeightsTlockPayload({ ...ok, values: [1, 0.5] })).toThrow(RangeError);
    expect(() => encodeWeightsTlockPayload({ ...ok, versionKey: 1n << 64n })).toThrow(RangeError);
    expect(() => encodeWeightsTlockPayload({ ...ok, versionKey: -1 })).toThrow(RangeError);
  });
});

describe("encryptCommit, decrypted as the chain does", () => {
  for (const round of ROUNDS)
    it(`opens with the real signature of round ${round} into exactly the payload, with the validator's hotkey`, () => {
      const asked = payloadOf(ALICE, 5);
      const payload = encodeWeightsTlockPayload(asked);
      for (const randomness of [FIXED, undefined]) {
        const commit = encryptCommit(payload, round, randomness);
        const out = revealAsChain(commit, SIGNATURES[round] as Uint8Array, ALICE);
        if (!out.ok) throw new Error(`dropped: ${out.reason}`);
        expect(out.plaintext).toEqual(payload);
        expect(out.payload).toEqual({ ...asked, versionKey: 9010001n });
      }
    });

  it("writes the fields at the offsets of the layout", () => {
    const payload = encodeWeightsTlockPayload(payloadOf(ALICE, 3));
    const L = payload.length;
    const hex = bytesToHex(encryptCommit(payload, 1000, FIXED));
    const at = (offset: number, n: number) => hex.slice(2 * offset, 2 * (offset + n));
    expect(hex.length / 2).toBe(244 + L);
    expect(at(96, 8)).toBe("2000000000000000");
    expect(at(136, 8)).toBe("2000000000000000");
    expect(BigInt(`0x${at(176, 8).match(/../g)?.reverse().join("")}`)).toBe(BigInt(L + 44));
    expect(BigInt(`0x${at(184, 8).match(/../g)?.reverse().join("")}`)).toBe(BigInt(L + 16));
    expect(at(208 + L, 8)).toBe("0c00000000000000");
    expect(at(216 + L, 12)).toBe("33".repeat(12));
    expect(at(228 + L, 16)).toBe(`0800000000000000${bytesToHex(new TextEncoder().encode("AES_GCM_"))}`);
  });

  it("does not open with the other round's signature: the U check fails", () => {
    const payload = encodeWeightsTlockPayload(payloadOf(ALICE, 3));
    expect(revealAsChain(encryptCommit(payload, 1000), SIGNATURES[2000] as Uint8Array, ALICE)).toEqual({
      ok: false,
      reason: "InvalidSignature",
    });
    expect(revealAsChain(encryptCommit(payload, 2000), SIGNATURES[1000] as Uint8Array, ALICE)).toEqual({
      ok: false,
      reason: "InvalidSignature",
    });
  });

  it("fails the GCM tag when a ciphertext byte is flipped", () => {
    const payload = encodeWeightsTlockPayload(payloadOf(ALICE, 3));
    for (const offset of [192, 192 + payload.length + 15]) {
      const commit = encryptCommit(payload, 1000);
      commit[offset] = (commit[offset] as number) ^ 0x01;
      expect(revealAsChain(commit, SIGNATURES[1000] as Uint8Array, ALICE)).toEqual({
        ok: false,
        reason: "DecryptionError",
      });
    }
  });

  it("is dropped when the payload names another hotkey than the signer", () => {
    const commit = encryptCommit(encodeWeightsTlockPayload(payloadOf(BOB, 3)), 1000);
    expect(revealAsChain(commit, SIGNATURES[1000] as Uint8Array, ALICE)).toEqual({
      ok: false,
      reason: "HotkeyMismatch",
    });
    expect(revealAsChain(commit, SIGNATURES[1000] as Uint8Array, BOB).ok).toBe(true);
  });

  it("fits 256 uids in 1313 bytes and 1177 in 4997, and refuses 1178 with WEIGHTS_COMMIT_TOO_LARGE", () => {
    expect(encryptCommit(encodeWeightsTlockPayload(payloadOf(ALICE, 256)), 1000, FIXED).length).toBe(1313);
    const largest = encryptCommit(encodeWeightsTlockPayload(payloadOf(ALICE, 1177)), 1000, FIXED);
    expect(largest.length).toBe(4997);
    expect(revealAsChain(largest, SIGNATURES[1000] as Uint8Array, ALICE).ok).toBe(true);
    let refused: unknown;
    try {
      encryptCommit(encodeWeightsTlockPayload(payloadOf(ALICE, 1178)), 1000);
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(EdgeError);
    expect(refused).toMatchObject({
      code: "WEIGHTS_COMMIT_TOO_LARGE",
      details: { bytes: 5001, limit: MAX_COMMIT_BYTES },
    });
  });

  it("writes the same bytes for the same randomness (a regression pin: it proves nothing about Rust)", () => {
    const commit = encryptCommit(encodeWeightsTlockPayload(payloadOf(ALICE, 3)), 1000, FIXED);
    expect(bytesToHex(sha256(commit))).toBe("09ebde9d538eb0bae081378cbad51e29583c69cf65853291d114c36c7f80d7b5");
  });
});
