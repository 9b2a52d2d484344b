/**
 * Why a uid is paid what it is, in one sentence for people (the weights CLI, `/v1/miners/{uid}`
 * and the dashboard say the same): final = rating × pay factor of the own-data evidence × sync
 * (docs/SPEC.md §2.5), and the first of those that keeps it at zero.
 */
import type { ScoringHparams } from "../hparams.ts";
import { ordinal } from "./openskill-match.ts";
import { type EvidenceState, evidenceOf, payFactor } from "./own-data-evidence.ts";

/** What the sentence is made of: a uid's carried state. */
export interface PayInputs {
  readonly finalScore: number;
  /** μ − 3σ, null before the uid is rated. */
  readonly ordinal: number | null;
  readonly evidence: number;
  readonly payFactor: number;
  readonly syncScore: number | null;
  readonly banWindowsLeft: number;
}

const f = (x: number, digits = 2) => x.toFixed(digits);

/** One sentence: how the final score comes about, or what keeps it at zero. */
export function explainPay(s: PayInputs, hp: ScoringHparams): string {
  const from = f(hp.evidence_pay_from, 1);
  const full = f(hp.evidence_pay_full, 1);
  if (s.banWindowsLeft > 0) return `banned for copying: unpaid for ${s.banWindowsLeft} more windows`;
  if (s.ordinal === null) return "not rated yet: no evaluated gradient in a match";
  if (s.payFactor <= 0)
    return (
      `unpaid: own-data evidence ${f(s.evidence)} ≤ ${from} — its own samples have not improved clearly more ` +
      `than random ones (paid from ${from}, in full from ${full} standard errors)`
    );
  if (s.ordinal <= 0) return `unpaid: rating μ − 3σ ${f(s.ordinal)} ≤ 0 — its gradients rank low in the matches`;
  if (!s.syncScore) return "unpaid: out of step with the model (sync 0)";
  const share =
    s.payFactor < 1 ? `${f(100 * s.payFactor, 0)}% of its score (in full from ${full})` : "all of its score";
  const product = s.ordinal * s.payFactor * s.syncScore;
  // The final score carries over between matches, and slashes (a missed window…) scale it.
  const formula =
    Math.abs(product - s.finalScore) <= 1e-9 * Math.max(1, Math.abs(product))
      ? `final ${f(s.finalScore, 4)} = rating ${f(s.ordinal)} × pay ${f(s.payFactor, 3)} × sync ${f(s.syncScore, 3)}`
      : `final ${f(s.finalScore, 4)}: rating ${f(s.ordinal)} × pay ${f(s.payFactor, 3)} × sync ${f(s.syncScore, 3)}, slashed since`;
  if (s.finalScore <= 0) return `unpaid: ${formula}`;
  return `${formula}; own-data evidence ${f(s.evidence)} earns ${share}`;
}

/** A uid's carried state, as far as its pay goes (uid_states' columns). */
export interface PayState extends EvidenceState {
  readonly mu: number | null;
  readonly sigma: number | null;
  readonly finalScore: number;
  readonly syncScore: number | null;
  readonly banWindowsLeft: number;
}

/** A state's rating, evidence, pay factor and the sentence that explains them. */
export function payOf(s: PayState, hp: ScoringHparams) {
  const evidence = evidenceOf(s);
  const pay = payFactor(evidence, hp);
  const rating = s.mu != null && s.sigma != null ? ordinal({ mu: s.mu, sigma: s.sigma }) : null;
  const explanation = explainPay({ ...s, ordinal: rating, evidence, payFactor: pay }, hp);
  return { ordinal: rating, evidence, payFactor: pay, explanation };
}
