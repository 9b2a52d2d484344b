/**
 * ★ A uid's own-data evidence (docs/SPEC.md §2.5): whether it trains on the samples assigned to
 * it, accumulated over its evaluations instead of decided window by window. Each evaluation gives
 * one statistic z (gradient-score.ts: own samples against random ones, in standard errors, about
 * N(0, 1) for a gradient not trained on them); the evidence is Stouffer's combination of the
 * recent ones with older ones forgotten at rate `evidence_decay`:
 *
 *   E = Σ λ^k z_(n−k) / √(Σ λ^(2k))
 *
 * so it stays about N(0, 1) for a miner that does not train on its samples, however long it
 * runs, and grows with every window for one that does. The final score takes a share of it:
 * nothing up to `evidence_pay_from`, all of it from `evidence_pay_full`, linear in between: no
 * cliff where a few unlucky windows take everything away.
 */
import type { ScoringHparams } from "../hparams.ts";

/** The evidence state: the decayed sum of statistics and of the squared weights. */
export interface EvidenceState {
  readonly evidenceSum: number;
  readonly evidenceWeight: number;
}

/** The state after one more evaluation's statistic (clipped to ±evidence_z_clip, so no single window decides). */
export function addEvidence(e: EvidenceState, z: number, hp: ScoringHparams): EvidenceState {
  const clipped = Math.max(-hp.evidence_z_clip, Math.min(hp.evidence_z_clip, z));
  const decay = hp.evidence_decay;
  return {
    evidenceSum: decay * e.evidenceSum + clipped,
    evidenceWeight: decay * decay * e.evidenceWeight + 1,
  };
}

/** The evidence E, in standard errors (0 before any evaluation). */
export function evidenceOf(e: EvidenceState): number {
  return e.evidenceWeight > 0 ? e.evidenceSum / Math.sqrt(e.evidenceWeight) : 0;
}

/** The share of the final score the evidence earns: 0 up to pay_from, 1 from pay_full, linear between. */
export function payFactor(evidence: number, hp: ScoringHparams): number {
  const span = hp.evidence_pay_full - hp.evidence_pay_from;
  return Math.max(0, Math.min(1, (evidence - hp.evidence_pay_from) / span));
}
