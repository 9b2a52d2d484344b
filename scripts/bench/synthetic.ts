/** Deterministic synthetic inputs for benchmarks: the same seed gives the same numbers every run. */

/** A linear congruential generator of uniforms in [0, 1): fast, and plenty for synthetic data. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** n values uniform in [−scale/2, scale/2). */
export function randomFlat(n: number, seed: number, scale = 0.02): Float32Array {
  const next = lcg(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() - 0.5) * scale;
  return out;
}
