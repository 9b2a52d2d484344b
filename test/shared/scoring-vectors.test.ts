// The scoring formulas against Templar's numbers: the OpenSkill and BMA vectors of
// templar-codec.json, and the follow-up match, weight vectors, sync examples and model-comparison
// cases of docs/PROTOCOL.md §7.2.
import { describe, expect, it } from "vitest";
import vectors from "../../../shared/vectors/templar-codec.json" with { type: "json" };
import { PROFILES } from "../../schema/hparams.ts";
import { measureGradient, nextBma } from "../../schema/scoring/gradient-score.ts";
import { NEW_RATING, ordinal, rateMatch } from "../../schema/scoring/openskill-match.ts";
import { nextStepEma, stepsBehind, syncScore } from "../../schema/scoring/sync-score.ts";
import { chainWeights, weightVector } from "../../schema/scoring/weights.ts";

const hp = PROFILES.default;

describe("OpenSkill Plackett-Luce (β 7, τ 0.1)", () => {
  it.each(vectors["openskill_plackett_luce_beta7_tau0.1"])("new players, scores $scores_higher_better", (v) => {
    const players = v.scores_higher_better.map((score, uid) => ({ uid, rating: null, score }));
    const rated = rateMatch(players, hp.scoring);
    rated.forEach((r, i) => {
      expect(r.before).toBeNull();
      expect(r.after.mu).toBe(v.mu[i]);
      expect(r.after.sigma).toBe(v.sigma[i]);
      expect(ordinal(r.after)).toBe(v.ordinal_mu_minus_3sigma[i]);
    });
  });

  it("rates the follow-up match of docs/PROTOCOL.md §7.2 from the updated ratings", () => {
    const first = rateMatch(
      [0.02, -0.01, 0.005].map((score, uid) => ({ uid, rating: null, score })),
      hp.scoring,
    );
    const again = rateMatch(
      [
        { uid: 0, rating: first[0]?.after ?? null, score: 0.001 },
        { uid: 2, rating: first[2]?.after ?? null, score: 0.003 },
      ],
      hp.scoring,
    );
    expect(again.map((r) => [r.after.mu, r.after.sigma])).toEqual([
      [25.088764405312613, 8.089704557824273],
      [27.929412999326473, 8.005531161383022],
    ]);
  });

  it("ranks an exactly-zero score by its value, not last (the intended difference from openskill.py)", () => {
    const rated = rateMatch(
      [0.02, 0, -0.01].map((score, uid) => ({ uid, rating: null, score })),
      hp.scoring,
    );
    const mus = rated.map((r) => r.after.mu);
    expect(mus[0]).toBeGreaterThan(mus[1] as number);
    expect(mus[1]).toBeGreaterThan(mus[2] as number);
  });

  it("starts from μ 25, σ 25/3 and refuses a one-player match", () => {
    expect(NEW_RATING).toEqual({ mu: 25, sigma: 25 / 3 });
    expect(ordinal(NEW_RATING)).toBeCloseTo(0, 12);
    expect(() => rateMatch([{ uid: 1, rating: null, score: 0.1 }], hp.scoring)).toThrow(/two players/);
  });
});

describe("binary moving average (α 0.05)", () => {
  it.each(Object.entries(vectors["binary_moving_average_alpha0.05_from0_after_n_plus1"]))(
    "after %s consecutive +1 from 0: %s",
    (n, expected) => {
      let bma = 0;
      for (let i = 0; i < Number(n); i++) bma = nextBma(bma, 1, hp.scoring.binary_score_ma_alpha);
      expect(bma).toBeCloseTo(expected, 4);
    },
  );

  it("the indicator is +1 only when the own samples improved strictly more", () => {
    const base = { lossBeforeOwn: 2, lossBeforeRandom: 2 };
    const better = measureGradient({ ...base, lossAfterOwn: 1.8, lossAfterRandom: 1.9 });
    expect(better.indicator).toBe(1);
    expect(better.gradientScore).toBeCloseTo(0.05, 12);
    expect(better.ownImprovement).toBeCloseTo(0.1, 12);
    expect(measureGradient({ ...base, lossAfterOwn: 1.9, lossAfterRandom: 1.9 }).indicator).toBe(-1);
    // An all-zero gradient changes nothing: 0 is not more than 0.
    expect(measureGradient({ ...base, lossAfterOwn: 2, lossAfterRandom: 2 })).toEqual({
      gradientScore: 0,
      ownImprovement: 0,
      randomImprovement: 0,
      indicator: -1,
      indicatorT: null,
    });
    // A loss before of 0 would divide by zero in Templar; here it scores 0.
    expect(measureGradient({ lossBeforeOwn: 0, lossAfterOwn: 1, lossBeforeRandom: 0, lossAfterRandom: 1 })).toEqual({
      gradientScore: 0,
      ownImprovement: 0,
      randomImprovement: 0,
      indicator: -1,
      indicatorT: null,
    });
  });
});

describe("sync score", () => {
  it.each([
    [0, 1],
    [1, 0.5724],
    [2, 0.2789],
    [3, 0.1012],
    [4, 0.0179],
    [5, 0],
    [9, 0],
    [Number.POSITIVE_INFINITY, 0],
  ])("%s steps behind → %s", (x, expected) => {
    expect(syncScore(x, hp.sync)).toBeCloseTo(expected, 4);
  });

  // tests/test_model_comparison.py: equal → 0, + lr → 1, + 5·lr → 5, empty → inf.
  it("counts steps behind in units of the step size, with the lower median", () => {
    const theta = { a: [0.5, -0.25], b: [1, 2] };
    const lr = hp.training.outer_learning_rate;
    const shift = (d: number) => ({ a: theta.a.map((v) => v + d), b: theta.b.map((v) => v + d) });
    expect(stepsBehind(theta, theta, null, lr)).toBe(0);
    expect(stepsBehind(shift(lr), theta, null, lr)).toBe(1);
    expect(stepsBehind(shift(5 * lr), theta, null, lr)).toBe(5);
    expect(stepsBehind({}, theta, null, lr)).toBe(Number.POSITIVE_INFINITY);
    // Ratios [0, 1, 2, 3]: torch's median is the lower middle, 1.
    const ema = { a: [0.01, 0.01], b: [0.01, 0.01] };
    const miner = { a: [0.5, -0.24], b: [1.02, 2.03] };
    expect(stepsBehind(miner, theta, ema, lr)).toBeCloseTo(1, 9);
    // A position that never moved divides by 1e-9, not 0.
    expect(stepsBehind({ a: [0.5 + 1e-9, -0.25] }, { a: [0.5, -0.25] }, { a: [0, 0] }, lr)).toBeCloseTo(0, 9);
  });

  it("keeps an EMA (α 0.2) of each position's step between checkpoints", () => {
    const e1 = nextStepEma(null, { w: [0, 0] }, { w: [1, -2] }, hp.sync.step_ema_alpha);
    expect(e1).toEqual({ w: [1, 2] });
    const e2 = nextStepEma(e1, { w: [1, -2] }, { w: [1.5, -2] }, hp.sync.step_ema_alpha);
    expect(e2.w?.[0]).toBeCloseTo(0.2 * 0.5 + 0.8 * 1, 12);
    expect(e2.w?.[1]).toBeCloseTo(0.8 * 2, 12);
  });
});

describe("weights", () => {
  const w = hp.weights;

  it("30 positive miners: the gather and reserve figures of docs/PROTOCOL.md §7.2, burn exactly 0.5, sum 1", () => {
    const scores = new Map(Array.from({ length: 30 }, (_, i) => [10 + i, 30 - i] as [number, number]));
    const v = weightVector(scores, w);
    const at = (uid: number) => v.weights.get(uid) ?? 0;
    expect(v.gather).toEqual(Array.from({ length: 20 }, (_, i) => 10 + i));
    expect(v.reserve).toEqual(Array.from({ length: 10 }, (_, i) => 30 + i));
    expect(at(w.burn_uid)).toBe(0.5);
    expect(at(10)).toBeCloseTo(0.032259, 6);
    expect(at(29)).toBeCloseTo(0.01613, 5);
    expect(at(30)).toBeCloseTo(0.008065, 6);
    expect(at(39)).toBeCloseTo(1.575e-5, 8);
    const total = (uids: readonly number[]) => uids.reduce((a, u) => a + at(u), 0);
    expect(total(v.gather)).toBeCloseTo(0.48389, 5);
    expect(total(v.reserve)).toBeCloseTo(0.01611, 5);
    expect([...v.weights.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it("three positive miners and a negative one", () => {
    const v = weightVector(
      new Map([
        [5, 3],
        [7, 2],
        [9, 1],
        [11, -4],
      ]),
      w,
    );
    expect(Object.fromEntries([...v.weights].map(([u, x]) => [u, Number(x.toFixed(4))]))).toEqual({
      1: 0.5,
      5: 0.2222,
      7: 0.1667,
      9: 0.1111,
    });
    expect(v.weights.has(11)).toBe(false);
  });

  it("burns everything when no one has a positive score, and follows burn_rate exactly", () => {
    expect([...weightVector(new Map([[4, 0]]), w).weights]).toEqual([[w.burn_uid, 1]]);
    for (const burn_rate of [0, 0.1, 0.37, 0.9]) {
      const v = weightVector(
        new Map([
          [3, 2],
          [4, 1],
        ]),
        { ...w, burn_rate },
      );
      expect(v.weights.get(w.burn_uid) ?? 0).toBe(burn_rate);
      expect([...v.weights.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it("gives the burn uid no tier slot even with the best score", () => {
    const v = weightVector(
      new Map([
        [w.burn_uid, 100],
        [8, 1],
      ]),
      w,
    );
    expect(v.gather).toEqual([8]);
    expect(v.weights.get(w.burn_uid)).toBe(w.burn_rate);
    expect(v.weights.get(8)).toBeCloseTo(1 - w.burn_rate, 12);
  });

  it("sends u16 values scaled so the largest is 65535, uids ascending", () => {
    const { uids, values } = chainWeights(
      new Map([
        [9, 0.1111],
        [1, 0.5],
        [5, 0.2222],
        [3, 0],
      ]),
    );
    expect(uids).toEqual([1, 5, 9]);
    expect(values).toEqual([65535, Math.round((0.2222 / 0.5) * 65535), Math.round((0.1111 / 0.5) * 65535)]);
  });
});
