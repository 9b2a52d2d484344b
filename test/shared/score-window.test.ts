// One window's scoring, end to end on the pure module: finals from the match and the own-data
// evidence, every penalty, the 2025 exploit (negative gradient score × negative BMA) and the
// zero-gradient property.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROFILES } from "../../schema/hparams.ts";
import { ordinal } from "../../schema/scoring/openskill-match.ts";
import {
  scoreWindow,
  type UidUpload,
  type UploadOutcome,
  type WindowScoring,
} from "../../schema/scoring/score-window.ts";
import { freshState, type UidScoreState } from "../../schema/scoring/uid-score-state.ts";
import { weightVector } from "../../schema/scoring/weights.ts";

const hp = PROFILES.default;
const THETA = { sample: { w: [0.5, -0.25], v: [1, 2] }, stepEma: null };
const hotkey = (uid: number) => `hotkey-${uid}`;
const metagraph = new Map(Array.from({ length: 64 }, (_, uid) => [uid, hotkey(uid)]));

/** Eight samples a side whose relative improvements are `mean` ± 0.002 (before 2, after 2·(1 − x)). */
function around(mean: number): { before: number[]; after: number[] } {
  const xs = Array.from({ length: 8 }, (_, i) => mean + (i % 2 ? 0.002 : -0.002));
  return { before: xs.map(() => 2), after: xs.map((x) => 2 * (1 - x)) };
}
/** The own-data statistic of `around(own)` against `around(random)`: (own − random) / 0.00107. */
const STATISTIC_PER_UNIT = 1 / Math.sqrt((2 * (8 * 0.002 ** 2)) / 7 / 8);

let nextSubmission = 1;
/**
 * An evaluated upload whose random loss drops by `score` (relative) and own loss by `own`, each
 * over eight samples: own − random = 0.01 is about 9 standard errors, past evidence_z_clip.
 */
function evaluated(score: number, own = score + 0.01, paramSample = THETA.sample): UploadOutcome {
  const o = around(own);
  const r = around(score);
  return {
    kind: "evaluated",
    submissionId: nextSubmission++,
    losses: {
      lossBeforeOwn: 2,
      lossAfterOwn: 2 * (1 - own),
      lossBeforeRandom: 2,
      lossAfterRandom: 2 * (1 - score),
      samples: { ownBefore: o.before, ownAfter: o.after, randomBefore: r.before, randomAfter: r.after },
    },
    paramSample,
  };
}

function uploadsOf(entries: Record<number, UploadOutcome>): Map<number, UidUpload> {
  return new Map(
    Object.entries(entries).map(([uid, outcome]) => [Number(uid), { hotkey: hotkey(Number(uid)), outcome }]),
  );
}

/** Runs windows in order, threading the states; returns every window's result. */
function run(windows: Record<number, UploadOutcome>[], start: Map<number, UidScoreState> = new Map()) {
  let states: ReadonlyMap<number, UidScoreState> = start;
  const results: WindowScoring[] = [];
  windows.forEach((uploads, i) => {
    const r = scoreWindow({
      window: 100 + i,
      hparams: hp,
      metagraph,
      states,
      uploads: uploadsOf(uploads),
      theta: THETA,
    });
    results.push(r);
    states = r.states;
  });
  return { results, states };
}

function lineOf(r: WindowScoring, uid: number) {
  const l = r.lines.find((x) => x.uid === uid);
  if (!l) throw new Error(`no line for uid ${uid}`);
  return l;
}

/** A uid with a positive score, as after a good run. */
function scored(uid: number, finalScore = 2, bma = 0.4): UidScoreState {
  return {
    ...freshState(uid, hotkey(uid)),
    finalScore,
    bma,
    evidenceSum: 10,
    evidenceWeight: 2,
    syncScore: 1,
    stepsBehind: 0,
    rating: { mu: 30, sigma: 5 },
  };
}

describe("scoring a window", () => {
  it("rates the window's evaluated uids and sets final = ordinal × pay factor of the evidence × sync", () => {
    const { results, states } = run([{ 3: evaluated(0.02), 4: evaluated(-0.01), 5: evaluated(0.005, 0) }]);
    const [r] = results as [WindowScoring];
    expect(r.matchSize).toBe(3);
    for (const uid of [3, 4, 5]) {
      const s = states.get(uid) as UidScoreState;
      const l = lineOf(r, uid);
      expect(l.matched).toBe(true);
      expect(l.syncScore).toBe(1);
      expect(l.stepsBehind).toBe(0);
      expect(s.finalScore).toBe(ordinal(s.rating as { mu: number; sigma: number }) * lineOf(r, uid).payFactor * 1);
    }
    // uid 5 improved its own samples 0.005 less than random ones: indicator −1, evidence −4.7, final 0.
    expect(lineOf(r, 5)).toMatchObject({ indicator: -1, bma: -0.05, payFactor: 0, finalScore: 0 });
    expect(lineOf(r, 5).evidence).toBeCloseTo(-0.005 * STATISTIC_PER_UNIT, 6);
    // uid 3 by 0.01 more: about 9 standard errors, clipped to 5: a third of the way from 3.5 to 8.
    expect(lineOf(r, 3).indicatorT).toBeCloseTo(0.01 * STATISTIC_PER_UNIT, 6);
    expect(lineOf(r, 3)).toMatchObject({ indicator: 1, bma: 0.05, evidence: 5 });
    expect(lineOf(r, 3).payFactor).toBeCloseTo(1 / 3, 12);
    expect(lineOf(r, 3).finalScore).toBeCloseTo(2.695645388513391 / 3, 12); // the first OpenSkill vector
    expect(lineOf(r, 4).finalScore).toBeLessThan(0);
  });

  it("holds no match with a single evaluated uid: its rating and final stay", () => {
    const { results } = run([{ 7: evaluated(0.03) }], new Map([[7, scored(7)]]));
    const l = lineOf(results[0] as WindowScoring, 7);
    expect(results[0]?.matchSize).toBe(0);
    expect(l).toMatchObject({ matched: false, finalBefore: 2, finalScore: 2, rating: { mu: 30, sigma: 5 } });
    expect(l.bma).toBeCloseTo(0.4 * 0.95 + 0.05, 12);
  });

  it("multiplies the sync factor in, and slashes a uid more than 3 steps behind", () => {
    const behind = (steps: number) => ({
      w: THETA.sample.w.map((v) => v - steps),
      v: THETA.sample.v.map((v) => v + steps),
    });
    const { results } = run([
      { 1: evaluated(0.02, 0.05, behind(1)), 2: evaluated(0.02, 0.05), 3: evaluated(0.02, 0.05, behind(4)) },
    ]);
    const [r] = results as [WindowScoring];
    const l1 = lineOf(r, 1);
    const l2 = lineOf(r, 2);
    const l3 = lineOf(r, 3);
    expect(l1.stepsBehind).toBe(1);
    expect(l1.syncScore).toBeCloseTo(0.5724, 4);
    expect(l1.finalScore / l2.finalScore).toBeCloseTo(0.5724, 4); // same score, same rating
    expect(l3.penalties).toEqual([expect.objectContaining({ kind: "out_of_sync", factor: 0.75 })]);
    expect(l3.finalScore / l2.finalScore).toBeCloseTo(syncAt(4) * 0.75, 6);
    expect(l3.bma).toBeCloseTo(0.05 * 0.75, 12);
    expect(l3.evidence).toBe(l2.evidence); // a slash bites the final score, not the evidence
  });

  it("slashes a missing uid ×0.75 per window and drops it after 3 windows in a row", () => {
    const { results, states } = run(
      [{}, { 9: { kind: "refused", code: "UPLOAD_TOO_LATE" } }, {}, {}],
      new Map([[9, scored(9)]]),
    );
    const kinds = results.map((r) => lineOf(r, 9).penalties.map((p) => p.kind));
    expect(kinds).toEqual([["missing"], ["late"], ["inactive"], ["inactive_reset"]]);
    expect(results.map((r) => lineOf(r, 9).finalScore)).toEqual([1.5, 1.125, 0.84375, 0]);
    expect(lineOf(results[2] as WindowScoring, 9).bma).toBeCloseTo(0.4 * 0.75 ** 3, 12);
    expect(states.has(9)).toBe(false);
    expect(results[3]?.states.has(9)).toBe(false);
  });

  it("an upload ends a run of missing windows", () => {
    const { results, states } = run([{}, {}, { 9: evaluated(0.01) }, {}], new Map([[9, scored(9)]]));
    expect(results.map((r) => lineOf(r, 9).penalties.map((p) => p.kind))).toEqual([
      ["missing"],
      ["inactive"],
      [],
      ["missing"],
    ]);
    expect(states.get(9)?.inactiveSince).toBe(103);
  });

  it("zeroes a positive final for an invalid upload or a failed evaluation, BMA untouched", () => {
    const { results } = run(
      [
        {
          2: { kind: "invalid", submissionId: 1, code: "INDEX_OUT_OF_RANGE" },
          3: { kind: "eval_failed", submissionId: 2, code: "EVAL_NON_FINITE" },
        },
      ],
      new Map([
        [2, scored(2)],
        [3, scored(3)],
      ]),
    );
    for (const uid of [2, 3]) {
      const l = lineOf(results[0] as WindowScoring, uid);
      expect(l).toMatchObject({
        finalScore: 0,
        bma: 0.4,
        penalties: [expect.objectContaining({ kind: "invalid", factor: 0 })],
      });
    }
  });

  it("leaves negative finals alone: slashes never raise a score", () => {
    const { results } = run(
      [{ 2: { kind: "invalid", submissionId: 1, code: "TRUNCATED" } }, {}],
      new Map([[2, { ...scored(2, -1.5, -0.2) }]]),
    );
    expect(results.map((r) => [lineOf(r, 2).finalScore, lineOf(r, 2).bma])).toEqual([
      [-1.5, -0.2],
      [-1.5, -0.2],
    ]);
    expect(lineOf(results[1] as WindowScoring, 2).penalties[0]?.factor).toBe(1);
  });

  it("copies by grade: high halves final and BMA, max resets, mega resets and bans for 200 windows", () => {
    const copied = (grade: "high" | "max" | "mega"): UploadOutcome => ({
      kind: "copied",
      submissionId: nextSubmission++,
      code: "COPY_NEAR",
      grade,
      overlap: { high: 0.45, max: 0.55, mega: 0.9 }[grade],
      originalUid: 20,
    });
    const start = new Map([2, 3, 4].map((u) => [u, scored(u)]));
    const { results, states } = run([{ 2: copied("high"), 3: copied("max"), 4: copied("mega") }], start);
    const r = results[0] as WindowScoring;
    expect(lineOf(r, 2)).toMatchObject({ finalScore: 1, bma: 0.2, evidence: 10 / Math.SQRT2 });
    expect(lineOf(r, 3)).toMatchObject({ finalScore: 0, bma: 0, evidence: 0, rating: null });
    expect(lineOf(r, 4)).toMatchObject({ finalScore: 0, bma: 0, evidence: 0, rating: null });
    expect(states.get(4)?.banWindowsLeft).toBe(200);
    expect(lineOf(r, 4).penalties[0]?.reason).toMatch(/COPY_NEAR: overlap 0\.900 with uid 20 \(grade mega\)/);

    // While banned, a good upload is ignored and the counter runs down.
    const banned = run([{ 4: evaluated(0.05), 5: evaluated(0.01) }, {}], new Map(states));
    expect(banned.results.map((x) => lineOf(x, 4).penalties.map((p) => p.kind))).toEqual([["banned"], ["banned"]]);
    expect(lineOf(banned.results[0] as WindowScoring, 4)).toMatchObject({
      matched: false,
      finalScore: 0,
      rating: null,
    });
    expect(banned.states.get(4)?.banWindowsLeft).toBe(198);

    // The ban ends: the next upload counts again.
    const after = run(
      [{ 4: evaluated(0.05), 5: evaluated(0.01) }],
      new Map([[4, { ...scored(4, 0, 0), banWindowsLeft: 0 }]]),
    );
    expect(lineOf(after.results[0] as WindowScoring, 4).matched).toBe(true);
  });

  it("starts a new registrant at a uid from nothing, and ignores an upload the old holder signed", () => {
    const states = new Map([[6, { ...scored(6), hotkey: "old-holder", banWindowsLeft: 50 }]]);
    const r = scoreWindow({
      window: 100,
      hparams: hp,
      metagraph,
      states,
      uploads: new Map([[6, { hotkey: "old-holder", outcome: evaluated(0.1) }]]),
      theta: THETA,
    });
    const l = lineOf(r, 6);
    expect(l.penalties.map((p) => p.kind)).toEqual(["new_hotkey", "missing"]);
    expect(l).toMatchObject({ hotkey: hotkey(6), outcome: "absent", finalBefore: 2, finalScore: 0, matched: false });
    expect(r.states.get(6)).toMatchObject({ hotkey: hotkey(6), banWindowsLeft: 0, rating: null });
  });

  it("drops the state of a uid that left the metagraph", () => {
    const r = scoreWindow({
      window: 100,
      hparams: hp,
      metagraph: new Map([[1, hotkey(1)]]),
      states: new Map([[40, scored(40)]]),
      uploads: new Map(),
      theta: THETA,
    });
    expect(lineOf(r, 40)).toMatchObject({ outcome: "deregistered", finalScore: 0 });
    expect(r.states.size).toBe(0);
  });

  it("sets a positive final below 1e-4 to 0", () => {
    const { results } = run([{}], new Map([[8, scored(8, 1.2e-4)]]));
    const l = lineOf(results[0] as WindowScoring, 8);
    expect(l.penalties.map((p) => p.kind)).toEqual(["missing", "below_threshold"]);
    expect(l.finalScore).toBe(0);
  });

  it("keeps a parked evaluation neutral: no penalty, still active", () => {
    const { results, states } = run([{ 8: { kind: "not_evaluated", submissionId: 1 } }], new Map([[8, scored(8)]]));
    expect(lineOf(results[0] as WindowScoring, 8)).toMatchObject({ penalties: [], finalScore: 2, bma: 0.4 });
    expect(states.get(8)?.lastSubmissionWindow).toBe(100);
  });
});

describe("incentives", () => {
  // Templar 2025-02 (aef8cc2b): zero gradients until the BMA bottomed out, then very harmful
  // gradients: negative gradient score × negative BMA gave a large positive final and weight ≈ 1.
  it("the 2025 exploit cannot happen: a negative BMA never turns a negative score into weight", () => {
    const windows: Record<number, UploadOutcome>[] = [];
    for (let i = 0; i < 60; i++) windows.push({ 10: evaluated(0.01, 0.02), 11: evaluated(0, 0) }); // zeros
    for (let i = 0; i < 30; i++) windows.push({ 10: evaluated(0.01, 0.02), 11: evaluated(-5, -5) }); // harm
    const { results } = run(windows);
    expect(lineOf(results[59] as WindowScoring, 11).bma).toBeLessThan(-0.9);
    for (const r of results) {
      const finals = new Map(r.lines.map((l) => [l.uid, l.finalScore]));
      expect(finals.get(11)).toBeLessThanOrEqual(0);
      expect(weightVector(finals, hp.weights).weights.get(11) ?? 0).toBe(0);
      expect(weightVector(finals, hp.weights).weights.get(10)).toBe(0.5);
    }
  });

  it("a zero-gradient miner never gets more weight than one that improves the loss", () => {
    const outcome = fc.record({
      score: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
      own: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            improverScore: fc.double({ min: 1e-4, max: 0.3, noNaN: true }),
            improverOwnBonus: fc.double({ min: 1e-4, max: 0.2, noNaN: true }),
            others: fc.array(fc.option(outcome, { nil: undefined }), { minLength: 0, maxLength: 6 }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        (windows) => {
          const { results } = run(
            windows.map((w) => {
              const uploads: Record<number, UploadOutcome> = {
                20: evaluated(0, 0), // the zero-gradient miner
                21: evaluated(w.improverScore, w.improverScore + w.improverOwnBonus),
              };
              w.others.forEach((o, i) => {
                if (o) uploads[30 + i] = evaluated(o.score, o.own);
              });
              return uploads;
            }),
          );
          for (const r of results) {
            const weights = weightVector(new Map(r.lines.map((l) => [l.uid, l.finalScore])), hp.weights).weights;
            const zero = weights.get(20) ?? 0;
            expect(zero).toBe(0);
            expect(zero).toBeLessThanOrEqual(weights.get(21) ?? 0);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

function syncAt(steps: number): number {
  return (1 - steps / 5) ** 2.5;
}
