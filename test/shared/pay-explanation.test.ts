// The sentence that explains a uid's pay (the weights CLI, /v1/miners/{uid} and the dashboard):
// the first thing that keeps a uid at zero, or how its final score comes about.
import { describe, expect, it } from "vitest";
import { PROFILES } from "../../schema/hparams.ts";
import { ordinal } from "../../schema/scoring/openskill-match.ts";
import { type PayState, payOf } from "../../schema/scoring/pay-explanation.ts";

const hp = PROFILES.local.scoring;
const rated = { mu: 30, sigma: 5 }; // ordinal 15
/** A rated, in-step uid whose evidence is `e` (one window's statistic). */
const state = (e: number, extra: Partial<PayState> = {}): PayState => ({
  ...rated,
  evidenceSum: e,
  evidenceWeight: 1,
  syncScore: 1,
  banWindowsLeft: 0,
  finalScore: 0,
  ...extra,
});

describe("why a uid is paid what it is", () => {
  it("pays a share of the rating by the evidence, and says how much", () => {
    const e = (hp.evidence_pay_from + hp.evidence_pay_full) / 2;
    const final = ordinal(rated) * 0.5;
    const p = payOf(state(e, { finalScore: final }), hp);
    expect(p).toMatchObject({ ordinal: 15, evidence: e, payFactor: 0.5 });
    expect(p.explanation).toBe(
      `final ${final.toFixed(4)} = rating 15.00 × pay 0.500 × sync 1.000; own-data evidence ${e.toFixed(2)} earns 50% of its score (in full from 8.0)`,
    );
    expect(payOf(state(20, { finalScore: 15 }), hp).explanation).toContain("earns all of its score");
  });

  it("says when a slash changed the final score since its last match", () => {
    expect(payOf(state(20, { finalScore: 7.5 }), hp).explanation).toMatch(/, slashed since; /);
  });

  it("names the evidence when it keeps a uid unpaid", () => {
    expect(payOf(state(1.2), hp).explanation).toBe(
      "unpaid: own-data evidence 1.20 ≤ 3.5 — its own samples have not improved clearly more than random ones (paid from 3.5, in full from 8.0 standard errors)",
    );
  });

  it("puts a copy ban first, then no rating, then the rating, then sync", () => {
    expect(payOf(state(20, { banWindowsLeft: 4 }), hp).explanation).toBe(
      "banned for copying: unpaid for 4 more windows",
    );
    expect(payOf(state(20, { mu: null, sigma: null }), hp).explanation).toMatch(/^not rated yet/);
    expect(payOf(state(20, { mu: 10, sigma: 5 }), hp).explanation).toMatch(/^unpaid: rating μ − 3σ -5\.00 ≤ 0/);
    expect(payOf(state(20, { syncScore: 0 }), hp).explanation).toBe("unpaid: out of step with the model (sync 0)");
  });
});
