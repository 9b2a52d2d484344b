/**
 * Which chunks go into a window's copy fingerprints (docs/SPEC.md §6): `count` distinct chunks
 * drawn uniformly from every chunk of every parameter whose chunks are not dense (k < chunk
 * size; a dense chunk is fully selected by everyone, so it carries no signal) and that the
 * profile does not exclude (`copy.fingerprint_exclude`), with randomness from the window's seed
 * block hash, which nobody knows before the put window closes.
 *
 * Randomness: SHA-256 in counter mode over the 32 hash bytes, read as little-endian uint32s;
 * an index below n is drawn by rejecting values ≥ floor(2^32 / n)·n. Anyone can reproduce it.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { ParamLayout } from "../codec/chunking.ts";
import type { CopyHparams } from "../hparams.ts";

/** A stream of uniform uint32s from a 0x-prefixed block hash. */
function uint32Stream(seedHash: string): () => number {
  const seed = hexToBytes(seedHash.replace(/^0x/, ""));
  let block = new Uint32Array(0);
  let at = 0;
  let counter = 0;
  return () => {
    if (at === block.length) {
      const input = new Uint8Array(seed.length + 4);
      input.set(seed);
      new DataView(input.buffer).setUint32(seed.length, counter++, true);
      const out = sha256(input);
      block = new Uint32Array(8);
      const view = new DataView(out.buffer, out.byteOffset, 32);
      for (let i = 0; i < 8; i++) block[i] = view.getUint32(i * 4, true);
      at = 0;
    }
    return block[at++] as number;
  };
}

/** A uniform integer in [0, n) by rejection. */
function below(next: () => number, n: number): number {
  const limit = Math.floor(4294967296 / n) * n;
  for (;;) {
    const v = next();
    if (v < limit) return v % n;
  }
}

/** The sampled chunk ids per parameter (ascending) for a window's seed block hash, as the profile's `copy` says. */
export function fingerprintSample(
  seedHash: string,
  layouts: readonly ParamLayout[],
  copy: Pick<CopyHparams, "fingerprint_chunks" | "fingerprint_exclude">,
): Map<string, number[]> {
  const count = copy.fingerprint_chunks;
  const eligible = layouts.filter((l) => l.k < l.totalk && !copy.fingerprint_exclude.includes(l.name));
  const total = eligible.reduce((n, l) => n + l.chunks, 0);
  const picked = new Set<number>();
  const next = uint32Stream(seedHash);
  while (picked.size < Math.min(count, total)) picked.add(below(next, total));
  // Walk the picked chunks in order beside the layouts: work grows with the sample and the
  // parameter count, not with the chunk count (17.8M chunks at 72B).
  const sorted = [...picked].sort((a, b) => a - b);
  const out = new Map<string, number[]>();
  let base = 0;
  let at = 0;
  for (const layout of eligible) {
    const ids: number[] = [];
    for (; at < sorted.length && (sorted[at] as number) < base + layout.chunks; at++)
      ids.push((sorted[at] as number) - base);
    if (ids.length) out.set(layout.name, ids);
    base += layout.chunks;
  }
  return out;
}
