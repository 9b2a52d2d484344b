/**
 * One window's OpenSkill match (docs/PROTOCOL.md §4.3): every uid evaluated in the
 * window is a one-player team, ranked by its gradient score, through the `openskill` package's
 * Plackett-Luce model (β and τ from hparams). A uid's skill is read as the ordinal μ − 3σ.
 */
import { ordinal as openskillOrdinal, rate, rating } from "openskill";
import { plackettLuce } from "openskill/models";
import type { ScoringHparams } from "../hparams.ts";

export interface Rating {
  readonly mu: number;
  readonly sigma: number;
}

/** A uid's rating before its first match (μ 25, σ 25/3). */
export const NEW_RATING: Rating = rating();

/** The conservative skill estimate μ − 3σ. */
export function ordinal(r: Rating): number {
  return openskillOrdinal(r);
}

export interface MatchPlayer {
  readonly uid: number;
  /** Null for a uid that has never been rated. */
  readonly rating: Rating | null;
  /** Higher is better: the gradient score. */
  readonly score: number;
}

export interface MatchResult {
  readonly uid: number;
  readonly before: Rating | null;
  readonly after: Rating;
}

/** Rates one match; players keep their order. Fewer than two players is no match (Templar's rule). */
export function rateMatch(players: readonly MatchPlayer[], scoring: ScoringHparams): MatchResult[] {
  if (players.length < 2) throw new Error(`a match needs two players, got ${players.length}`);
  const rated = rate(
    players.map((p) => [p.rating ?? NEW_RATING]),
    {
      model: plackettLuce,
      beta: scoring.openskill_beta,
      tau: scoring.openskill_tau,
      score: players.map((p) => p.score),
    },
  );
  return players.map((p, i) => {
    const after = rated[i]?.[0] as Rating;
    return { uid: p.uid, before: p.rating, after: { mu: after.mu, sigma: after.sigma } };
  });
}
