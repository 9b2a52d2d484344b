/**
 * Who trains and is evaluated on which samples (docs/SPEC.md, "Data"), all through numpy's
 * `default_rng(seed).choice(n, size, replace=False)`:
 * - a miner's pool for (uid, window): seed window_seed(uid, window) (Templar's), n = the
 *   training split's samples, size = inner_steps · batch_size;
 * - the validator's "own" samples of a uid: drawn from its pool with a seed from the window's
 *   seed block hash and the uid;
 * - the validator's "random" samples: drawn from the whole training split with a seed from the
 *   seed block hash. No one knows the seed block hash before the put window closes.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { choiceWithoutReplacement, windowSeed } from "./numpy-random.ts";

/** A seed from a block hash and a label: the first 4 bytes, little-endian, of SHA-256(hash ‖ label). */
export function hashSeed(blockHash: string, label: string): number {
  const hash = hexToBytes(blockHash.replace(/^0x/, ""));
  const tag = new TextEncoder().encode(label);
  const input = new Uint8Array(hash.length + tag.length);
  input.set(hash);
  input.set(tag, hash.length);
  return new DataView(sha256(input).buffer).getUint32(0, true);
}

/** The training samples of a miner in a window, in the order it trains on them. */
export function minerPool(uid: number, window: number, trainSamples: number, poolSize: number): number[] {
  return choiceWithoutReplacement(windowSeed(uid, window), trainSamples, Math.min(poolSize, trainSamples));
}

export interface Draw {
  readonly seed: number;
  readonly samples: number[];
}

/** The validator's "own" samples of a uid: `count` of its pool. */
export function ownSamples(seedBlockHash: string, uid: number, pool: readonly number[], count: number): Draw {
  const seed = hashSeed(seedBlockHash, `own:${uid}`);
  const picks = choiceWithoutReplacement(seed, pool.length, Math.min(count, pool.length));
  return { seed, samples: picks.map((i) => pool[i] as number) };
}

/** The validator's "random" samples of a window: `count` of the whole training split. */
export function randomSamples(seedBlockHash: string, trainSamples: number, count: number): Draw {
  const seed = hashSeed(seedBlockHash, "random");
  return { seed, samples: choiceWithoutReplacement(seed, trainSamples, Math.min(count, trainSamples)) };
}

/** The held-out samples every θ_S is measured on: `count` ids evenly spaced over the split. */
export function heldoutSamples(heldoutCount: number, count: number): number[] {
  const n = Math.min(count, heldoutCount);
  return Array.from({ length: n }, (_, i) => Math.floor((i * heldoutCount) / n));
}
