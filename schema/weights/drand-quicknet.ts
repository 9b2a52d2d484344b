/**
 * drand's quicknet beacon: the chain the subtensor runtime's Drand pallet stores pulses of and
 * reveals timelocked weights with (docs/WEIGHTS_ON_CHAIN.md §1). Constants as bittensor-drand
 * src/drand.rs:17-23 gives them; the message of a round is drand's unchained one,
 * sha256(be64(round)), signed in G1 under the key in G2.
 */
import { sha256 } from "@noble/hashes/sha2.js";

/** quicknet's chain parameters (bittensor-drand src/drand.rs:17-23). */
export const QUICKNET = {
  /** The group public key: a compressed G2 point, 96 bytes. */
  publicKeyHex:
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
  chainHashHex: "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
  genesisSeconds: 1692803367,
  periodSeconds: 3,
  /** The hash-to-G1 domain separation tag of quicknet's signatures (timelock tle/src/curves/drand.rs:36). */
  dst: "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_",
} as const;

/**
 * The round bittensor's SDK targets for a time, floor((t − genesis) / period) (bittensor-drand
 * src/drand.rs:222-243): drand publishes round r at genesis + (r − 1)·period, so this round is
 * out by time t. Below 1 before quicknet's genesis (no round is out); tests that need the real
 * pulses of rounds 1000 and 2000 set clocks there.
 */
export function quicknetRoundAt(unixSeconds: number): number {
  if (!Number.isFinite(unixSeconds)) throw new RangeError(`${unixSeconds} is not a time`);
  return Math.floor((unixSeconds - QUICKNET.genesisSeconds) / QUICKNET.periodSeconds);
}

/** The message drand signs for a round, sha256 of its 8-byte big-endian number: the identity a commit is encrypted to. */
export function quicknetRoundMessage(round: number): Uint8Array {
  if (!Number.isSafeInteger(round) || round < 1) throw new RangeError(`drand round ${round} is not a positive integer`);
  const be64 = new Uint8Array(8);
  new DataView(be64.buffer).setBigUint64(0, BigInt(round));
  return sha256(be64);
}
