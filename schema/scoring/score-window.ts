/**
 * Scores one window: from what happened to each uid's upload to its new BMA, sync score, rating
 * and final score, with every penalty on the record. Pure: the caller reads the inputs from D1
 * and writes the lines and states back (window-scoring.ts). The order within a window:
 *
 * 1. per uid, ascending: a new hotkey starts fresh; a copy ban resets and ignores the upload;
 *    otherwise the outcome: evaluated (gradient score, indicator → BMA, steps behind → sync),
 *    invalid or failed evaluation (positive final → 0), copied (by grade), refused or absent
 *    (×0.75, reset after `reset_inactivity_windows` windows in a row);
 * 2. the OpenSkill match of the uids evaluated in this window, if there are at least two:
 *    final = ordinal × pay factor of the own-data evidence × sync (fewer than two: ratings and
 *    finals stay);
 * 3. the out-of-sync slash; then positive finals below `score_zero_threshold` become 0.
 */
import type { CopyGrade } from "../db/intake.ts";
import type { Hparams, ScoringHparams } from "../hparams.ts";
import { type EvaluationLosses, measureGradient, nextBma } from "./gradient-score.ts";
import { ordinal, type Rating, rateMatch } from "./openskill-match.ts";
import { addEvidence, evidenceOf, payFactor } from "./own-data-evidence.ts";
import { type ParamSample, stepsBehind, syncScore } from "./sync-score.ts";
import { freshState, type Penalty, reset, slash, type UidScoreState, zeroFinal } from "./uid-score-state.ts";

/** What became of a uid's upload for the window, as D1 records it. */
export type UploadOutcome =
  | {
      readonly kind: "evaluated";
      readonly submissionId: number;
      readonly losses: EvaluationLosses;
      /** The submission's param_sample (null only for a record that predates it). */
      readonly paramSample: ParamSample | null;
    }
  | { readonly kind: "eval_failed"; readonly submissionId: number; readonly code: string }
  | { readonly kind: "invalid"; readonly submissionId: number; readonly code: string }
  | {
      readonly kind: "copied";
      readonly submissionId: number;
      readonly code: string;
      readonly grade: CopyGrade;
      readonly overlap: number;
      readonly originalUid: number;
    }
  /** Valid, but its evaluation batch was parked: the validator's failure, not the miner's. */
  | { readonly kind: "not_evaluated"; readonly submissionId: number }
  | { readonly kind: "refused"; readonly code: "UPLOAD_TOO_EARLY" | "UPLOAD_TOO_LATE" };

/** A uid's upload outcome, with the hotkey that signed it. */
export interface UidUpload {
  readonly hotkey: string;
  readonly outcome: UploadOutcome;
}

/** θ_S at the param_sample positions, and the typical step per position (null before any outer step). */
export interface ThetaSample {
  readonly sample: ParamSample;
  readonly stepEma: ParamSample | null;
}

export interface WindowScoringInput {
  readonly window: number;
  readonly hparams: Pick<Hparams, "scoring" | "sync" | "copy" | "training">;
  /** uid → hotkey on the metagraph now. */
  readonly metagraph: ReadonlyMap<number, string>;
  /** Every uid's state after the previous scored window. */
  readonly states: ReadonlyMap<number, UidScoreState>;
  /** Every uid that uploaded (or was refused) in this window. */
  readonly uploads: ReadonlyMap<number, UidUpload>;
  readonly theta: ThetaSample;
}

export type LineOutcome = UploadOutcome["kind"] | "absent" | "deregistered";

/** One uid's line of the window: everything that went into its final score. */
export interface UidWindowLine {
  readonly uid: number;
  readonly hotkey: string;
  readonly outcome: LineOutcome;
  readonly submissionId: number | null;
  /** The verdict or evaluation code behind an invalid, failed, copied or refused outcome. */
  readonly code: string | null;
  readonly gradientScore: number | null;
  readonly ownImprovement: number | null;
  readonly randomImprovement: number | null;
  readonly indicator: 1 | -1 | null;
  readonly indicatorT: number | null;
  readonly bmaBefore: number;
  readonly bma: number;
  /** ★ The own-data evidence after this window, and the share of the final score it earns. */
  readonly evidence: number;
  readonly payFactor: number;
  readonly stepsBehind: number | null;
  readonly syncScore: number | null;
  readonly ratingBefore: Rating | null;
  readonly rating: Rating | null;
  /** μ − 3σ of `rating`. */
  readonly ordinal: number | null;
  /** True if the uid played in this window's match. */
  readonly matched: boolean;
  readonly finalBefore: number;
  readonly finalScore: number;
  readonly penalties: readonly Penalty[];
}

export interface WindowScoring {
  /** One line per uid with something to say, ascending. */
  readonly lines: readonly UidWindowLine[];
  /** The states to keep; a uid absent here has none (never seen, reset for inactivity, deregistered). */
  readonly states: ReadonlyMap<number, UidScoreState>;
  /** Players in the window's match (0: no match). */
  readonly matchSize: number;
}

interface Draft {
  readonly uid: number;
  readonly hotkey: string;
  readonly outcome: LineOutcome;
  readonly submissionId: number | null;
  readonly code: string | null;
  readonly before: { bma: number; final: number; rating: Rating | null };
  readonly state: UidScoreState;
  readonly penalties: Penalty[];
  measures: ReturnType<typeof measureGradient> | null;
  matched: boolean;
  kept: boolean;
}

function markActive(state: UidScoreState, window: number): void {
  state.inactiveSince = null;
  state.lastSubmissionWindow = window;
}

/** Scores `input.window` (see the module comment for the order of things). */
export function scoreWindow(input: WindowScoringInput): WindowScoring {
  const { window, hparams: hp } = input;
  const uids = [...new Set([...input.states.keys(), ...input.uploads.keys()])].sort((a, b) => a - b);
  const drafts: Draft[] = [];
  const players: Draft[] = [];

  for (const uid of uids) {
    const prior = input.states.get(uid);
    const hotkey = input.metagraph.get(uid);
    if (hotkey === undefined) {
      if (prior) drafts.push(draft(uid, prior.hotkey, "deregistered", prior, prior, null, null, false));
      continue;
    }
    const upload = input.uploads.get(uid);
    // An upload signed by a previous holder of the uid says nothing about the new one.
    const outcome = upload?.hotkey === hotkey ? upload.outcome : null;
    if (!prior && !outcome) continue;
    const penalties: Penalty[] = [];
    let state: UidScoreState;
    if (prior && prior.hotkey !== hotkey) {
      state = freshState(uid, hotkey);
      penalties.push({
        kind: "new_hotkey",
        factor: 0,
        reason: `uid ${uid} is now held by ${hotkey}: ${prior.hotkey}'s state is dropped`,
      });
    } else {
      state = prior ? { ...prior } : freshState(uid, hotkey);
    }
    const submissionId = outcome && "submissionId" in outcome ? outcome.submissionId : null;
    const code = outcome && "code" in outcome ? outcome.code : null;
    const d = draft(uid, hotkey, outcome?.kind ?? "absent", prior ?? state, state, submissionId, code, true);
    d.penalties.push(...penalties);
    drafts.push(d);

    if (state.banWindowsLeft > 0) {
      d.penalties.push(reset(state, "banned", `copy ban, ${state.banWindowsLeft} windows left: any upload is ignored`));
      state.banWindowsLeft -= 1;
      if (outcome && outcome.kind !== "refused") state.lastSubmissionWindow = window;
      continue;
    }

    switch (outcome?.kind) {
      case "evaluated": {
        const m = measureGradient(outcome.losses, hp.scoring.indicator_z);
        d.measures = m;
        state.bma = nextBma(state.bma, m.indicator, hp.scoring.binary_score_ma_alpha);
        if (m.indicatorT !== null) Object.assign(state, addEvidence(state, m.indicatorT, hp.scoring));
        const x = outcome.paramSample
          ? stepsBehind(outcome.paramSample, input.theta.sample, input.theta.stepEma, hp.training.outer_learning_rate)
          : Number.POSITIVE_INFINITY;
        state.stepsBehind = Number.isFinite(x) ? x : null;
        state.syncScore = syncScore(x, hp.sync);
        markActive(state, window);
        state.lastEvaluatedWindow = window;
        players.push(d);
        break;
      }
      case "eval_failed":
      case "invalid":
        d.penalties.push(zeroFinal(state, "invalid", `${outcome.code}: the upload cannot be applied`));
        markActive(state, window);
        break;
      case "copied": {
        const why = `${outcome.code}: overlap ${outcome.overlap.toFixed(3)} with uid ${outcome.originalUid} (grade ${outcome.grade})`;
        if (outcome.grade === "high") d.penalties.push(slash(state, "copy_high", hp.scoring.overlap_high_slash, why));
        else d.penalties.push(reset(state, outcome.grade === "max" ? "copy_max" : "copy_mega", why));
        if (outcome.grade === "mega") state.banWindowsLeft = hp.copy.ban_windows;
        markActive(state, window);
        break;
      }
      case "not_evaluated":
        markActive(state, window);
        break;
      default: {
        // Absent, or refused at the clock: the run of windows without an accepted upload grows.
        const first = state.inactiveSince === null;
        state.inactiveSince ??= window;
        const missed = window - state.inactiveSince + 1;
        if (missed > hp.scoring.reset_inactivity_windows) {
          d.penalties.push(reset(state, "inactive_reset", `${missed} windows in a row without an accepted upload`));
          d.kept = false;
          break;
        }
        const factor = first ? hp.scoring.missing_gradient_slash : hp.scoring.inactivity_slash;
        const run = `${missed} window${missed > 1 ? "s" : ""} in a row without an accepted upload`;
        if (outcome?.kind === "refused") {
          const kind = outcome.code === "UPLOAD_TOO_EARLY" ? "early" : "late";
          d.penalties.push(slash(state, kind, factor, `${outcome.code}; ${run}`));
        } else {
          d.penalties.push(slash(state, first ? "missing" : "inactive", factor, `no upload; ${run}`));
        }
      }
    }
  }

  if (players.length >= 2) {
    const results = rateMatch(
      players.map((p) => ({ uid: p.uid, rating: p.state.rating, score: p.measures?.gradientScore ?? 0 })),
      hp.scoring,
    );
    results.forEach((r, i) => {
      const p = players[i] as Draft;
      p.state.rating = r.after;
      p.state.finalScore = ordinal(r.after) * payFactor(evidenceOf(p.state), hp.scoring) * (p.state.syncScore ?? 0);
      p.matched = true;
    });
  }
  for (const p of players) {
    const x = p.state.stepsBehind;
    if (x === null || x > hp.sync.sync_max_steps_behind) {
      const where = x === null ? "no parameter to compare" : `${x.toFixed(2)} steps behind`;
      p.penalties.push(
        slash(p.state, "out_of_sync", hp.scoring.sync_slash, `${where} (more than ${hp.sync.sync_max_steps_behind})`),
      );
    }
  }
  for (const d of drafts) {
    const s = d.state;
    if (d.kept && s.finalScore > 0 && s.finalScore < hp.scoring.score_zero_threshold) {
      d.penalties.push({
        kind: "below_threshold",
        factor: 0,
        reason: `final score ${s.finalScore.toExponential(3)} below ${hp.scoring.score_zero_threshold}`,
      });
      s.finalScore = 0;
    }
  }

  const states = new Map<number, UidScoreState>();
  for (const d of drafts) if (d.kept) states.set(d.uid, d.state);
  return { lines: drafts.map((d) => line(d, hp.scoring)), states, matchSize: players.length >= 2 ? players.length : 0 };
}

function draft(
  uid: number,
  hotkey: string,
  outcome: LineOutcome,
  from: UidScoreState,
  state: UidScoreState,
  submissionId: number | null,
  code: string | null,
  kept: boolean,
): Draft {
  return {
    uid,
    hotkey,
    outcome,
    submissionId,
    code,
    before: { bma: from.bma, final: from.finalScore, rating: from.rating },
    state,
    penalties: [],
    measures: null,
    matched: false,
    kept,
  };
}

function line(d: Draft, scoring: ScoringHparams): UidWindowLine {
  const s = d.state;
  const kept = d.kept;
  return {
    uid: d.uid,
    hotkey: d.hotkey,
    outcome: d.outcome,
    submissionId: d.submissionId,
    code: d.code,
    gradientScore: d.measures?.gradientScore ?? null,
    ownImprovement: d.measures?.ownImprovement ?? null,
    randomImprovement: d.measures?.randomImprovement ?? null,
    indicator: d.measures?.indicator ?? null,
    indicatorT: d.measures?.indicatorT ?? null,
    bmaBefore: d.before.bma,
    bma: kept ? s.bma : 0,
    evidence: kept ? evidenceOf(s) : 0,
    payFactor: kept ? payFactor(evidenceOf(s), scoring) : 0,
    stepsBehind: kept ? s.stepsBehind : null,
    syncScore: kept ? s.syncScore : null,
    ratingBefore: d.before.rating,
    rating: kept ? s.rating : null,
    ordinal: kept && s.rating ? ordinal(s.rating) : null,
    matched: d.matched,
    finalBefore: d.before.final,
    finalScore: kept ? s.finalScore : 0,
    penalties: d.penalties,
  };
}
