/**
 * What one evaluation says about a gradient (docs/SPEC.md §2.4; Templar's: docs/PROTOCOL.md
 * §4.2): the gradient score is the relative loss improvement on the window's random samples; the
 * own-data statistic says by how many standard errors the miner's own samples improved more than
 * random ones (a miner that trained on its assigned data fits it better), and feeds both Templar's
 * binary indicator (→ BMA, kept for comparison) and the own-data evidence the final score uses.
 */

/** Each sample's mean loss, own and random draws, before and after the step (and after the window's reference step). */
export interface SampleLosses {
  readonly ownBefore: readonly number[];
  readonly ownAfter: readonly number[];
  readonly randomBefore: readonly number[];
  readonly randomAfter: readonly number[];
  readonly referenceOwnAfter?: readonly number[] | null;
  readonly referenceRandomAfter?: readonly number[] | null;
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
  /** The own-data statistic (ownDataT); null when decided by the means alone. */
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

const improvements = (before: readonly number[], after: readonly number[]) =>
  before.map((b, i) => relativeImprovement(b, after[i] as number));

/** Welch's t of two samples' means: how many standard errors `a`'s mean lies above `b`'s; null without spread. */
function welchT(a: readonly number[], b: readonly number[], bVarianceDf = b.length - 1): number | null {
  const x = meanAndVariance(a);
  const y = meanAndVariance(b);
  const yVariance = (y.variance * (b.length - 1)) / Math.max(1, bVarianceDf);
  const se = Math.sqrt(x.variance / a.length + yVariance / b.length);
  return se > 0 ? (x.mean - y.mean) / se : null;
}

/**
 * Welch's t of the own samples' relative improvements against the random samples': how many
 * standard errors the own samples improved by more. Null without per-sample losses or spread.
 */
export function improvementT(s: SampleLosses): number | null {
  return welchT(improvements(s.ownBefore, s.ownAfter), improvements(s.randomBefore, s.randomAfter));
}

/**
 * ★ The own-data statistic. With the window's reference step measured on the same samples, each
 * sample's improvement is first predicted from what the reference step did to it (a line fitted
 * on the random samples: improvement ≈ a + b · reference improvement), and Welch's t compares the
 * own samples' residuals with the random samples'. How much a sample improves under any useful
 * step of the window is mostly the sample's own matter; taking it out leaves what the miner's
 * training on its own samples added. Without the reference it is improvementT.
 */
export function ownDataT(s: SampleLosses): number | null {
  const own = improvements(s.ownBefore, s.ownAfter);
  const random = improvements(s.randomBefore, s.randomAfter);
  if (!s.referenceOwnAfter || !s.referenceRandomAfter) return welchT(own, random);
  const refOwn = improvements(s.ownBefore, s.referenceOwnAfter);
  const refRandom = improvements(s.randomBefore, s.referenceRandomAfter);
  const x = meanAndVariance(refRandom);
  const y = meanAndVariance(random);
  let sxy = 0;
  for (let i = 0; i < random.length; i++) sxy += ((refRandom[i] as number) - x.mean) * ((random[i] as number) - y.mean);
  const sxx = x.variance * (random.length - 1);
  // A reference step that changes nothing predicts nothing: the plain test then.
  if (!(sxx > 0) || random.length < 4) return welchT(own, random);
  const slope = sxy / sxx;
  const predicted = (r: number) => y.mean + slope * (r - x.mean);
  return welchT(
    own.map((v, i) => v - predicted(refOwn[i] as number)),
    random.map((v, i) => v - predicted(refRandom[i] as number)),
    random.length - 2, // the line was fitted on the random residuals: two degrees of freedom fewer
  );
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
  const t = losses.samples ? ownDataT(losses.samples) : null;
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
