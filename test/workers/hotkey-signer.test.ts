// The validator hotkey derives and signs inside workerd, where wasm cannot be compiled: pure JS only.
import { verify } from "@scure/sr25519";
import { describe, expect, it } from "vitest";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { commitHash, randomSalt } from "../../workers/chain/weights-commit.ts";

// Keyring({ type: "sr25519", ss58Format: 42 }).addFromUri("//Charlie//hot").address, computed once in
// Node (with wasm available); test/node/hotkey-signer.test.ts checks the derivation against Keyring directly.
const CHARLIE_HOT = "5GnAm62UXQTPnmevdJfS7q7Eh6gRJzjbxoa4y2wLZyoA7HQR";

describe("hotkeySignerFromSecret in workerd", () => {
  it("derives //Charlie//hot and signs verifiably, with no wasm", () => {
    const signer = hotkeySignerFromSecret("//Charlie//hot");
    expect(signer.address).toBe(CHARLIE_HOT);
    const message = new TextEncoder().encode("templar-edge/v1/workerd");
    const signature = signer.sign(message);
    expect(verify(message, signature, signer.publicKey)).toBe(true);
    expect(verify(message.slice(1), signature, signer.publicKey)).toBe(false);
  });

  it("hashes a weights commit with a standalone type registry", () => {
    // blake2-256 of the tuple's SCALE bytes, also computed by hand in Node; that the chain accepts
    // this hash at reveal is checked in test/node/chain-weights.test.ts.
    const call = { netuid: 2, uids: [1, 2], values: [3, 4], salt: [5, 6], versionKey: 7n };
    expect(commitHash(CHARLIE_HOT, call)).toBe("0x3998e389e6d93085feb4ac748687de5472a20f486ceb5f90a983e8e56fc35270");
    const salt = randomSalt();
    expect(salt).toHaveLength(8);
    expect(salt.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff)).toBe(true);
  });
});
