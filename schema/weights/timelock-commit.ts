/**
 * The `commit` bytes of `commit_timelocked_weights`: a payload encrypted to a drand quicknet round
 * so that the chain itself decrypts it once that round's signature is stored. This is timelock's
 * `TLECiphertext` at the revision subtensor pins (ideal-lab5/timelock @5416406): Boneh–Franklin
 * FullIdent IBE on BLS12-381 (signatures in G1, the key in G2) wrapping a 32-byte AES-256-GCM key,
 * serialized with ark-serialize. Layout and sources: docs/WEIGHTS_ON_CHAIN.md §2.
 *
 * Pure JavaScript on @noble: the cron Worker encrypts inside workerd, which cannot compile wasm.
 * Newer timelock builds and npm `tlock-js` write other bytes, which the chain cannot read.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { bls12_381 as bls } from "@noble/curves/bls12-381.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { EdgeError } from "../errors.ts";
import { QUICKNET, quicknetRoundMessage } from "./drand-quicknet.ts";

/** The chain's bound on `commit` (MAX_CRV3_COMMIT_SIZE_BYTES, subtensor pallets/subtensor/src/lib.rs:60). */
export const MAX_COMMIT_BYTES = 5000;
/** What the ciphertext adds to the payload: U, V, W, the AES nonce and tag, the suite name and six length fields. */
export const COMMIT_OVERHEAD_BYTES = 244;

/** The secrets of one encryption; fresh from crypto.getRandomValues unless a test fixes them. */
export interface CommitRandomness {
  /** 32 bytes: the AES key, which is also the message the IBE layer encrypts. */
  readonly esk: Uint8Array;
  /** 32 bytes: the IBE layer's randomness. */
  readonly sigma: Uint8Array;
  /** 12 bytes: the AES-GCM nonce. */
  readonly nonce: Uint8Array;
}

/** The cipher suite name timelock writes after the body (tle/src/stream_ciphers.rs:80). */
const AES_GCM_SUITE = new TextEncoder().encode("AES_GCM_");

let quicknetKey: ReturnType<typeof bls.G2.Point.fromBytes> | undefined;

/** The commit bytes of `payload` for drand quicknet round `round`: what `commit_timelocked_weights` carries. */
export function encryptCommit(payload: Uint8Array, round: number, randomness?: CommitRandomness): Uint8Array {
  const size = COMMIT_OVERHEAD_BYTES + payload.length;
  if (size > MAX_COMMIT_BYTES)
    throw new EdgeError(
      "WEIGHTS_COMMIT_TOO_LARGE",
      `the timelocked commit would be ${size} bytes; the chain takes at most ${MAX_COMMIT_BYTES}`,
      { bytes: size, limit: MAX_COMMIT_BYTES, payloadBytes: payload.length },
    );
  const { esk, sigma, nonce } = randomness ?? freshRandomness();
  if (esk.length !== 32 || sigma.length !== 32 || nonce.length !== 12)
    throw new RangeError("esk and sigma must be 32 bytes, nonce 12");

  // IBE (timelock tle/src/ibe/fullident.rs:85-115): hide esk under the round's identity.
  quicknetKey ??= bls.G2.Point.fromBytes(hexToBytes(QUICKNET.publicKeyHex));
  const r = h3(sigma, esk);
  const U = bls.G2.Point.BASE.multiply(r);
  const identity = bls.G1.hashToCurve(quicknetRoundMessage(round), { DST: QUICKNET.dst });
  const V = xor(sigma, sha256(gtBytes(bls.pairing(identity, quicknetKey.multiply(r)))));
  const W = xor(esk, sha256(sigma));
  // The stream cipher (tle/src/stream_ciphers.rs:37-42): the payload under esk, tag appended.
  const ciphertext = gcm(esk, nonce).encrypt(payload);

  return concat(U.toBytes(true), vec(V), vec(W), vec(concat(vec(ciphertext), vec(nonce))), vec(AES_GCM_SUITE));
}

/** FullIdent's H3, sha256(a ‖ b) read big-endian, reduced mod r (timelock tle/src/ibe/utils.rs:41-64). */
function h3(a: Uint8Array, b: Uint8Array): bigint {
  let x = 0n;
  for (const byte of sha256(concat(a, b))) x = (x << 8n) | BigInt(byte);
  return bls.fields.Fr.create(x);
}

/**
 * A pairing value as ark-serialize writes it: the 12 Fp coefficients in noble's order (c0 before
 * c1 at every level), each little-endian where noble writes big-endian.
 */
function gtBytes(x: ReturnType<typeof bls.pairing>): Uint8Array {
  const out = bls.fields.Fp12.toBytes(x);
  for (let at = 0; at < out.length; at += 48) out.subarray(at, at + 48).reverse();
  return out;
}

/** ark-serialize's Vec<u8>: an 8-byte little-endian length, then the bytes. */
function vec(bytes: Uint8Array): Uint8Array {
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(bytes.length), true);
  return concat(length, bytes);
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, i) => x ^ (b[i] as number));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function freshRandomness(): CommitRandomness {
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  return { esk: random(32), sigma: random(32), nonce: random(12) };
}
