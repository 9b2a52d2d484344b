/**
 * What one evaluation says about a gradient (docs/PROTOCOL.md §4.2): the gradient
 * score is the relative loss improvement on the window's random samples; the binary indicator
 * says whether the miner's own samples improved more than random ones (a miner that trained on
 * its assigned data should fit it better), and feeds the binary moving average (BMA).
 */

/** Each sample's mean loss, own and random draws, before and after the step. */
export interface SampleLosses {
  readonly ownBefore: readonly number[];
  readonly ownAfter: readonly number[];
  readonly randomBefore: readonly number[];
  readonly randomAfter: readonly number[];
}

/** The four losses a runner reports for one submission (mean next-byte CE on θ_S and after the step). */
export interface EvaluationLosses {
  readonly lossBeforeOwn: number;
  readonly lossAfterOwn: number;
  readonly lossBeforeRandom: number;
  readonly lossAfterRandom: number;
  /** Per sample, when the runner reported them (the indicator's test needs them). */
  readonly samples?: SampleLosses | null;
}

export interface GradientMeasures {
  /** (before − after) / before on random samples: the score OpenSkill ranks. */
  readonly gradientScore: number;
  readonly ownImprovement: number;
  readonly randomImprovement: number;
  /** +1 if the own samples improved more than the random ones, else −1. */
  readonly indicator: 1 | -1;
  /** Welch's t of own vs random per-sample improvement; null when decided by the means alone. */
  readonly indicatorT: number | null;
}

/** (before − after) / before, or 0 when before ≤ 0 (Templar's guard; a loss is never ≤ 0 in practice). */
export function relativeImprovement(before: number, after: number): number {
  return before > 0 ? (before - after) / before : 0;
}

function meanAndVariance(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.length > 1 ? xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, variance };
}

/**
 * Welch's t of the own samples' relative improvements against the random samples': how many
 * standard errors the own samples improved by more. Null without per-sample losses or spread.
 */
export function improvementT(s: SampleLosses): number | null {
  const own = meanAndVariance(s.ownBefore.map((b, i) => relativeImprovement(b, s.ownAfter[i] as number)));
  const rnd = meanAndVariance(s.randomBefore.map((b, i) => relativeImprovement(b, s.randomAfter[i] as number)));
  const se = Math.sqrt(own.variance / s.ownBefore.length + rnd.variance / s.randomBefore.length);
  return se > 0 ? (own.mean - rnd.mean) / se : null;
}

/**
 * The gradient score, both improvements and the indicator of one evaluation. With `indicatorZ`
 * 0 the indicator is Templar's (own mean improvement > random); above 0 (★) the own samples must
 * beat the random ones by `indicatorZ` standard errors of their per-sample improvements, so a
 * miner that did not train on its samples draws −1 most windows instead of a coin flip.
 */
export function measureGradient(losses: EvaluationLosses, indicatorZ = 0): GradientMeasures {
  const ownImprovement = relativeImprovement(losses.lossBeforeOwn, losses.lossAfterOwn);
  const randomImprovement = relativeImprovement(losses.lossBeforeRandom, losses.lossAfterRandom);
  const t = losses.samples ? improvementT(losses.samples) : null;
  // Strictly greater: a gradient that changes nothing (0 vs 0) counts against the miner.
  const beats = indicatorZ > 0 && t !== null ? t > indicatorZ : ownImprovement > randomImprovement;
  return {
    // Templar divides without the guard; with it the score is the random improvement itself.
    gradientScore: randomImprovement,
    ownImprovement,
    randomImprovement,
    indicator: beats ? 1 : -1,
    indicatorT: t,
  };
}

/** The BMA after one more indicator: (1 − α)·bma + α·indicator. */
export function nextBma(bma: number, indicator: 1 | -1, alpha: number): number {
  return (1 - alpha) * bma + alpha * indicator;
}
