// ★ The own-data statistic and its evidence (SPEC §2.4–2.5): known distributions give known
// decisions. A miner whose samples improve no more than random ones stays unpaid however long it
// runs; one whose own samples lead by a steady margin is paid within a few windows; the reference
// step takes what every sample shares out of the comparison.
import { describe, expect, it } from "vitest";
import { PROFILES } from "../../schema/hparams.ts";
import { improvementT, ownDataT, type SampleLosses } from "../../schema/scoring/gradient-score.ts";
import { addEvidence, type EvidenceState, evidenceOf, payFactor } from "../../schema/scoring/own-data-evidence.ts";
import { rng } from "./fixtures/gradients.ts";

const scoring = PROFILES.local.scoring;

/** Standard normal draws (Box–Muller) from a seeded uniform source. */
function normal(seed: number): () => number {
  const next = rng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** Evidence after feeding `zs` in order. */
function evidenceAfter(zs: readonly number[]): number[] {
  let e: EvidenceState = { evidenceSum: 0, evidenceWeight: 0 };
  return zs.map((z) => {
    e = addEvidence(e, z, scoring);
    return evidenceOf(e);
  });
}

describe("the evidence", () => {
  it("is Stouffer's Z of the statistics with older ones forgotten at evidence_decay", () => {
    const [a = 0, b = 0, c = 0] = [1.5, -0.5, 2];
    const l = scoring.evidence_decay;
    const expected = (l * l * a + l * b + c) / Math.sqrt(l ** 4 + l ** 2 + 1);
    expect(evidenceAfter([a, b, c]).at(-1)).toBeCloseTo(expected, 12);
    // one window cannot decide: a statistic counts at most ±evidence_z_clip
    expect(evidenceAfter([1000])[0]).toBe(scoring.evidence_z_clip);
  });

  it("stays about N(0, 1) for statistics drawn from N(0, 1), whatever the run's length", () => {
    const draw = normal(7);
    const finals: number[] = [];
    let above = 0;
    let windows = 0;
    for (let run = 0; run < 400; run++) {
      const es = evidenceAfter(Array.from({ length: 48 }, draw));
      finals.push(es.at(-1) as number);
      windows += es.length;
      above += es.filter((e) => e > scoring.evidence_pay_from).length;
    }
    const mean = finals.reduce((s, x) => s + x, 0) / finals.length;
    const sd = Math.sqrt(finals.reduce((s, x) => s + (x - mean) ** 2, 0) / (finals.length - 1));
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(sd).toBeGreaterThan(0.85);
    expect(sd).toBeLessThan(1.15);
    // P(N(0,1) > 3.5) ≈ 2.3e-4 per window: of 19,200 windows at most a handful are paid
    expect(above / windows).toBeLessThan(1e-3);
  });

  it("pays a lead of 4 standard errors a window (an honest miner's) from its third window on", () => {
    const draw = normal(11);
    for (let run = 0; run < 200; run++) {
      const es = evidenceAfter(Array.from({ length: 12 }, () => 4 + draw()));
      expect(es.slice(2).every((e) => payFactor(e, scoring) > 0)).toBe(true);
    }
    // a steady 4: E = 4, 5.65, 6.90, 7.95, 8.84 → paid 11%, 48%, 76%, 99%, then in full
    const steady = evidenceAfter([4, 4, 4, 4, 4]).map((e) => payFactor(e, scoring));
    expect(steady.slice(0, 4).every((f, i) => f > 0 && f < 1 && f > (steady[i - 1] ?? 0))).toBe(true);
    expect(steady[4]).toBe(1);
  });

  it("pays nothing up to evidence_pay_from, all from evidence_pay_full, linearly between", () => {
    const { evidence_pay_from: from, evidence_pay_full: full } = scoring;
    expect(payFactor(-3, scoring)).toBe(0);
    expect(payFactor(from, scoring)).toBe(0);
    expect(payFactor((from + full) / 2, scoring)).toBeCloseTo(0.5, 12);
    expect(payFactor(full, scoring)).toBe(1);
    expect(payFactor(full + 10, scoring)).toBe(1);
  });
});

/**
 * Per-sample losses: every sample has a difficulty d (how much any useful step improves it); the
 * miner's step improves a sample by d + noise, its own samples by `lead` more; the reference step
 * improves a sample by d + smaller noise.
 */
function sampleLosses(seed: number, lead: number, n = 64): SampleLosses {
  const draw = normal(seed);
  const before = () => 4 + 0.2 * draw();
  const make = (extra: number) => {
    const b = Array.from({ length: n }, before);
    const d = b.map(() => 0.02 + 0.01 * draw());
    return {
      before: b,
      after: b.map((x, i) => x * (1 - ((d[i] as number) + extra + 0.002 * draw()))),
      reference: b.map((x, i) => x * (1 - ((d[i] as number) + 0.002 * draw()))),
    };
  };
  const own = make(lead);
  const random = make(0);
  return {
    ownBefore: own.before,
    ownAfter: own.after,
    randomBefore: random.before,
    randomAfter: random.after,
    referenceOwnAfter: own.reference,
    referenceRandomAfter: random.reference,
  };
}

describe("the own-data statistic", () => {
  it("without a reference step is Welch's t of the improvements", () => {
    const s = sampleLosses(3, 0.003);
    expect(ownDataT({ ...s, referenceOwnAfter: null, referenceRandomAfter: null })).toBe(improvementT(s));
  });

  it("with the reference step sees a lead the samples' own spread hides", () => {
    let plain = 0;
    let adjusted = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const s = sampleLosses(seed, 0.003);
      plain += (improvementT(s) as number) / 50;
      adjusted += (ownDataT(s) as number) / 50;
    }
    // the lead is 0.3 of the samples' spread (0.01): about 1.7 standard errors without, far more with
    expect(plain).toBeGreaterThan(0.8);
    expect(plain).toBeLessThan(2.6);
    expect(adjusted).toBeGreaterThan(3 * plain);
  });

  it("with the reference step is about N(0, 1) when the own samples have no lead", () => {
    const zs = Array.from({ length: 400 }, (_, i) => ownDataT(sampleLosses(1000 + i, 0)) as number);
    const mean = zs.reduce((s, x) => s + x, 0) / zs.length;
    const sd = Math.sqrt(zs.reduce((s, x) => s + (x - mean) ** 2, 0) / (zs.length - 1));
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(sd).toBeGreaterThan(0.85);
    expect(sd).toBeLessThan(1.2);
  });

  it("falls back to the plain test when the reference step changes nothing", () => {
    const s = sampleLosses(5, 0.003);
    const still = { ...s, referenceOwnAfter: s.ownBefore, referenceRandomAfter: s.randomBefore };
    expect(ownDataT(still)).toBe(improvementT(s));
  });
});
