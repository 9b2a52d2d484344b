/**
 * What one evaluation says about a gradient (reference/templar-protocol.md §4.3): the gradient
 * score is the relative loss improvement on the window's random samples; the binary indicator
 * says whether the miner's own samples improved more than random ones (a miner that trained on
 * its assigned data should fit it better), and feeds the binary moving average (BMA).
 */

/** The four losses a runner reports for one submission (mean next-byte CE on θ_S and after the step). */
export interface EvaluationLosses {
  readonly lossBeforeOwn: number;
  readonly lossAfterOwn: number;
  readonly lossBeforeRandom: number;
  readonly lossAfterRandom: number;
}

export interface GradientMeasures {
  /** (before − after) / before on random samples: the score OpenSkill ranks. */
  readonly gradientScore: number;
  readonly ownImprovement: number;
  readonly randomImprovement: number;
  /** +1 if the own samples improved more than the random ones, else −1. */
  readonly indicator: 1 | -1;
}

/** (before − after) / before, or 0 when before ≤ 0 (Templar's guard; a loss is never ≤ 0 in practice). */
export function relativeImprovement(before: number, after: number): number {
  return before > 0 ? (before - after) / before : 0;
}

/** The gradient score, both improvements and the indicator of one evaluation. */
export function measureGradient(losses: EvaluationLosses): GradientMeasures {
  const ownImprovement = relativeImprovement(losses.lossBeforeOwn, losses.lossAfterOwn);
  const randomImprovement = relativeImprovement(losses.lossBeforeRandom, losses.lossAfterRandom);
  return {
    // Templar divides without the guard; with it the score is the random improvement itself.
    gradientScore: randomImprovement,
    ownImprovement,
    randomImprovement,
    // Strictly greater: a gradient that changes nothing (0 vs 0) counts against the miner.
    indicator: ownImprovement > randomImprovement ? 1 : -1,
  };
}

/** The BMA after one more indicator: (1 − α)·bma + α·indicator. */
export function nextBma(bma: number, indicator: 1 | -1, alpha: number): number {
  return (1 - alpha) * bma + alpha * indicator;
}
