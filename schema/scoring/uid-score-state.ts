/**
 * What the validator carries from window to window for a uid, and the penalties that change it
 * (docs/SPEC.md §2.5; Templar's own: docs/PROTOCOL.md §4.4). Multiplicative slashes bite only a
 * positive final score, as in Templar, and never raise a negative BMA; a reset forgets everything
 * but a copy ban.
 */
import type { Rating } from "./openskill-match.ts";

export interface UidScoreState {
  readonly uid: number;
  /** The hotkey this state belongs to: a new registrant at the uid starts fresh. */
  readonly hotkey: string;
  /** Templar's binary moving average of the indicator: kept for comparison, not in the final score. */
  bma: number;
  /** ★ The own-data evidence (own-data-evidence.ts): decayed sum of the per-window statistics, and of their squared weights. */
  evidenceSum: number;
  evidenceWeight: number;
  /** Null until the uid's first evaluation (and after a reset). */
  stepsBehind: number | null;
  syncScore: number | null;
  finalScore: number;
  /** Null until the uid's first match (and after a reset). */
  rating: Rating | null;
  /** First window of the current run without an accepted upload; null while active. */
  inactiveSince: number | null;
  /** Windows left in a copy ban (Templar's "naughty" counter). */
  banWindowsLeft: number;
  lastSubmissionWindow: number | null;
  lastEvaluatedWindow: number | null;
}

export const PENALTY_KINDS = [
  "new_hotkey", // the uid changed hands: the old holder's state is dropped
  "banned", // inside a copy ban: reset, upload ignored
  "missing", // no upload in this window (first window of a run)
  "early", // the upload was refused as too early
  "late", // the upload was refused as too late
  "inactive", // another window without an upload
  "inactive_reset", // too many windows without an upload: state dropped
  "invalid", // the upload failed validation, or its evaluation failed
  "copy_high", // copied, overlap below the "max" grade
  "copy_max", // copied, "max" grade: reset
  "copy_mega", // copied, "mega" grade: reset and ban
  "out_of_sync", // more steps behind than sync_max_steps_behind
  "below_threshold", // a positive final score too small to keep
] as const;
export type PenaltyKind = (typeof PENALTY_KINDS)[number];

/** A penalty as recorded in the uid's line of the window. */
export interface Penalty {
  readonly kind: PenaltyKind;
  /** The multiplier applied (0 for a reset or a zeroing); 1 if it had nothing to bite. */
  readonly factor: number;
  readonly reason: string;
}

/** A uid's state before anything is known about it. */
export function freshState(uid: number, hotkey: string): UidScoreState {
  return {
    uid,
    hotkey,
    bma: 0,
    evidenceSum: 0,
    evidenceWeight: 0,
    stepsBehind: null,
    syncScore: null,
    finalScore: 0,
    rating: null,
    inactiveSince: null,
    banWindowsLeft: 0,
    lastSubmissionWindow: null,
    lastEvaluatedWindow: null,
  };
}

/** Multiplies a positive final score (and a positive BMA with it) by `factor`. */
export function slash(state: UidScoreState, kind: PenaltyKind, factor: number, reason: string): Penalty {
  if (state.finalScore <= 0) return { kind, factor: 1, reason: `${reason}; no effect: final score not positive` };
  state.finalScore *= factor;
  if (state.bma > 0) state.bma *= factor;
  return { kind, factor, reason };
}

/** Sets a positive final score to 0, leaving the BMA (Templar's invalid-gradient rule). */
export function zeroFinal(state: UidScoreState, kind: PenaltyKind, reason: string): Penalty {
  if (state.finalScore <= 0) return { kind, factor: 1, reason: `${reason}; no effect: final score not positive` };
  state.finalScore = 0;
  return { kind, factor: 0, reason };
}

/** Forgets scores, rating and activity (Templar's reset_peer); a ban in progress stays. */
export function reset(state: UidScoreState, kind: PenaltyKind, reason: string): Penalty {
  state.bma = 0;
  state.evidenceSum = 0;
  state.evidenceWeight = 0;
  state.stepsBehind = null;
  state.syncScore = null;
  state.finalScore = 0;
  state.rating = null;
  state.inactiveSince = null;
  return { kind, factor: 0, reason };
}
