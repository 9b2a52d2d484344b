/**
 * Top-k index overlap, Templar's copy measure (reference §5.6): per chunk |A ∩ B| / k, averaged
 * over chunks, and across parameters weighted by chunks·k.
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

/** The index sets of one parameter's sampled chunks, and the k they were cut with. */
export interface ParamIndexSample {
  readonly k: number;
  /** chunk id → its indices. Both sides of a comparison sample the same chunk ids. */
  readonly chunks: Readonly<Record<number, readonly number[]>>;
}

/**
 * Overlap of two submissions over the chunks both sampled: mean per-chunk overlap of each
 * parameter, weighted across parameters by (sampled chunks · k).
 */
export function submissionOverlap(
  a: Readonly<Record<string, ParamIndexSample>>,
  b: Readonly<Record<string, ParamIndexSample>>,
): number {
  let weighted = 0;
  let weight = 0;
  for (const [param, sa] of Object.entries(a)) {
    const sb = b[param];
    if (!sb) continue;
    let sum = 0;
    let n = 0;
    for (const [chunk, idxA] of Object.entries(sa.chunks)) {
      const idxB = sb.chunks[Number(chunk)];
      if (!idxB) continue;
      sum += chunkOverlap(idxA, idxB, sa.k);
      n++;
    }
    // Templar weights each parameter's mean overlap by its chunks·k; here, the chunks compared.
    weighted += (n === 0 ? 0 : sum / n) * n * sa.k;
    weight += n * sa.k;
  }
  return weight === 0 ? 0 : weighted / weight;
}
