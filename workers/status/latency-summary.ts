/** Summaries of latency samples for the status endpoint: count, median, p90, max (nearest rank). */

export interface LatencySummary {
  readonly count: number;
  readonly median_ms: number | null;
  readonly p90_ms: number | null;
  readonly max_ms: number | null;
}

/** The q-quantile (0 < q ≤ 1) of ascending `sorted` by the nearest-rank method. */
function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

/** Summarizes the finite, non-negative samples of `values` (others are dropped). */
export function summarizeLatencies(values: readonly (number | null | undefined)[]): LatencySummary {
  const sorted = values
    .filter((v): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0)
    .sort((a, b) => a - b);
  if (!sorted.length) return { count: 0, median_ms: null, p90_ms: null, max_ms: null };
  return {
    count: sorted.length,
    median_ms: nearestRank(sorted, 0.5),
    p90_ms: nearestRank(sorted, 0.9),
    max_ms: sorted[sorted.length - 1] as number,
  };
}
