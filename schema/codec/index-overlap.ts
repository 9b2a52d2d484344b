/**
 * Top-k index overlap, Templar's copy measure (docs/PROTOCOL.md §5): per chunk |A ∩ B| / k. Copy
 * detection (workers/copies/find-copies.ts) sums it over a window's chunk sample, weighted by k.
 */

/** |a ∩ b| / k for the index sets of one chunk. */
export function chunkOverlap(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  const inA = new Set<number>();
  for (let i = 0; i < a.length; i++) inA.add(a[i]);
  let shared = 0;
  const counted = new Set<number>();
  for (let i = 0; i < b.length; i++) {
    const v = b[i];
    if (inA.has(v) && !counted.has(v)) {
      counted.add(v);
      shared++;
    }
  }
  return shared / k;
}
