// The binary indicator: Templar's comparison of mean improvements, and (★) the per-sample test
// that needs the own samples to beat the random ones by indicator_z standard errors.
import { describe, expect, it } from "vitest";
import { improvementT, measureGradient, type SampleLosses } from "../../schema/scoring/gradient-score.ts";

/** Losses whose relative improvements are exactly `own` and `random` (before 5, after 5·(1 − x)). */
function samples(own: number[], random: number[]): SampleLosses {
  const after = (xs: number[]) => xs.map((x) => 5 * (1 - x));
  return {
    ownBefore: own.map(() => 5),
    ownAfter: after(own),
    randomBefore: random.map(() => 5),
    randomAfter: after(random),
  };
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
function losses(own: number[], random: number[]) {
  return {
    lossBeforeOwn: 5,
    lossAfterOwn: 5 * (1 - mean(own)),
    lossBeforeRandom: 5,
    lossAfterRandom: 5 * (1 - mean(random)),
    samples: samples(own, random),
  };
}

describe("the indicator", () => {
  it("is Welch's t of the per-sample improvements", () => {
    // own: mean .03, variance .0001·(4/3); random: mean .02, variance .0001·(4/3)… by hand:
    const own = [0.02, 0.04, 0.02, 0.04];
    const random = [0.01, 0.03, 0.01, 0.03];
    const variance = (4 * 0.01 ** 2) / 3;
    expect(improvementT(samples(own, random))).toBeCloseTo(0.01 / Math.sqrt(variance / 4 + variance / 4), 9);
    expect(improvementT(samples([0.1, 0.1], [0.1, 0.1]))).toBeNull(); // no spread: no test
  });

  it("with indicator_z 0 compares the means, as Templar does", () => {
    const noisy = losses([0.05, -0.01, 0.03, 0.0], [0.02, 0.0, 0.01, 0.01]);
    expect(measureGradient(noisy, 0).indicator).toBe(1);
    expect(measureGradient({ ...noisy, samples: null }, 1).indicator).toBe(1); // no samples: the means decide
  });

  it("with indicator_z 1 gives −1 to a lead the noise explains, +1 to a clear one", () => {
    const noisy = losses([0.05, -0.01, 0.03, 0.0], [0.02, 0.0, 0.01, 0.01]);
    const m = measureGradient(noisy, 1);
    expect(m.ownImprovement).toBeGreaterThan(m.randomImprovement);
    expect(m.indicatorT).toBeGreaterThan(0);
    expect(m.indicatorT).toBeLessThan(1);
    expect(m.indicator).toBe(-1);
    const clear = measureGradient(losses([0.05, 0.052, 0.049, 0.051], [0.02, 0.021, 0.019, 0.02]), 1);
    expect(clear.indicator).toBe(1);
    expect(clear.indicatorT).toBeGreaterThan(10);
  });
});
