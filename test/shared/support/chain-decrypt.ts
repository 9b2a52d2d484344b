/**
 * The chain's side of a timelocked weights commit, written from subtensor's reveal
 * (pallets/subtensor/src/coinbase/reveal_commits.rs:91-195) and timelock's decryption
 * (tle/src/tlock.rs:106-128, tle/src/ibe/fullident.rs:132-152, tle/src/stream_ciphers.rs:116-127),
 * not from schema/weights/: it reads the bytes by their layout, decrypts with drand's signature
 * of the round, and tells why the chain would drop a commit. It shares only the @noble primitives
 * with the encryptor, so the two agreeing means both follow the layout, not each other.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { type Struct, TypeRegistry } from "@polkadot/types";

/** Why the chain drops a commit at reveal (each only a trace log there). */
export type DropReason = "Malformed" | "InvalidSignature" | "DecryptionError" | "PayloadUndecodable" | "HotkeyMismatch";

export interface DecodedPayload {
  readonly hotkey: Uint8Array;
  readonly uids: number[];
  readonly values: number[];
  readonly versionKey: bigint;
}

export type RevealOutcome =
  | { readonly ok: true; readonly plaintext: Uint8Array; readonly payload: DecodedPayload }
  | { readonly ok: false; readonly reason: DropReason };

const registry = new TypeRegistry();
registry.register({
  WeightsTlockPayload: { hotkey: "Vec<u8>", uids: "Vec<u16>", values: "Vec<u16>", version_key: "u64" },
});

/** Reads an ark-serialize Vec<u8> (u64 little-endian length, then the bytes) at `at`. */
function readVec(bytes: Uint8Array, at: number): { value: Uint8Array; next: number } {
  if (at + 8 > bytes.length) throw new Error("truncated length");
  const length = new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0, true);
  const end = at + 8 + Number(length);
  if (end > bytes.length) throw new Error("truncated vec");
  return { value: bytes.slice(at + 8, end), next: end };
}

/** An Fp12 value as ark serializes it: noble's coefficient order, each 48-byte Fp little-endian. */
function arkGt(x: ReturnType<typeof bls12_381.pairing>): Uint8Array {
  const be = bls12_381.fields.Fp12.toBytes(x);
  const le = new Uint8Array(be.length);
  for (let fp = 0; fp < be.length / 48; fp++)
    for (let i = 0; i < 48; i++) le[fp * 48 + i] = be[fp * 48 + 47 - i] as number;
  return le;
}

/** sha256(a ‖ b) as a big-endian integer mod the BLS12-381 scalar order (ark's from_be_bytes_mod_order). */
function h3(a: Uint8Array, b: Uint8Array): bigint {
  const input = new Uint8Array(a.length + b.length);
  input.set(a);
  input.set(b, a.length);
  const hex = Array.from(sha256(input), (x) => x.toString(16).padStart(2, "0")).join("");
  return BigInt(`0x${hex}`) % bls12_381.fields.Fr.ORDER;
}

const xor32 = (a: Uint8Array, b: Uint8Array) => Uint8Array.from({ length: 32 }, (_, i) => (a[i] ?? 0) ^ (b[i] ?? 0));

/** What the chain does with `commit` at reveal, given the stored pulse signature (48 bytes) and the signer. */
export function revealAsChain(commit: Uint8Array, signature: Uint8Array, signer: Uint8Array): RevealOutcome {
  let U: ReturnType<typeof bls12_381.G2.Point.fromBytes>;
  let v: Uint8Array;
  let w: Uint8Array;
  let ct: Uint8Array;
  let nonce: Uint8Array;
  try {
    // TLECiphertext { header: { U, V, W }, body, cipher_suite }, each field ark-serialized in turn.
    U = bls12_381.G2.Point.fromBytes(commit.subarray(0, 96));
    const V = readVec(commit, 96);
    const W = readVec(commit, V.next);
    const body = readVec(commit, W.next);
    const suite = readVec(commit, body.next);
    if (suite.next !== commit.length || V.value.length !== 32 || W.value.length !== 32)
      return { ok: false, reason: "Malformed" };
    const c = readVec(body.value, 0);
    const n = readVec(body.value, c.next);
    if (n.next !== body.value.length || n.value.length !== 12) return { ok: false, reason: "Malformed" };
    [v, w, ct, nonce] = [V.value, W.value, c.value, n.value];
  } catch {
    return { ok: false, reason: "Malformed" };
  }

  // IBE decryption with the round's signature as the identity's secret key.
  const sig = bls12_381.G1.Point.fromBytes(signature);
  const sigma = xor32(v, sha256(arkGt(bls12_381.pairing(sig, U))));
  const esk = xor32(w, sha256(sigma));
  if (!bls12_381.G2.Point.BASE.multiply(h3(sigma, esk)).equals(U)) return { ok: false, reason: "InvalidSignature" };

  let plaintext: Uint8Array;
  try {
    plaintext = gcm(esk, nonce).decrypt(ct);
  } catch {
    return { ok: false, reason: "DecryptionError" };
  }

  let payload: DecodedPayload;
  try {
    // A Struct is a Map: read fields with get(), since `values` is Map.prototype.values.
    const decoded = registry.createType("WeightsTlockPayload", plaintext) as unknown as Struct;
    const field = <T>(name: string) => decoded.get(name) as unknown as T;
    payload = {
      hotkey: field<{ toU8a(bare: true): Uint8Array }>("hotkey").toU8a(true),
      uids: field<{ toNumber(): number }[]>("uids").map((x) => x.toNumber()),
      values: field<{ toNumber(): number }[]>("values").map((x) => x.toNumber()),
      versionKey: field<{ toBigInt(): bigint }>("version_key").toBigInt(),
    };
  } catch {
    // The chain would try the legacy {uids, values, version_key} form next; nothing here writes it.
    return { ok: false, reason: "PayloadUndecodable" };
  }
  // The chain reads the hotkey as an AccountId32 and compares it with the committing account.
  const hotkey = payload.hotkey.subarray(0, 32);
  if (payload.hotkey.length < 32 || hotkey.some((b, i) => b !== signer[i]))
    return { ok: false, reason: "HotkeyMismatch" };
  return { ok: true, plaintext, payload };
}
