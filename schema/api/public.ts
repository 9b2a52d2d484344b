/** Documents of the public API (docs/SPEC.md §7), as the Worker serves them and clients read them. */
import type { ErrorJson, PutWindowJson } from "./responses.ts";
import type { SampleLossesJson } from "./runner.ts";

// The documents /openapi.json describes field by field are defined by their schemas.
export type { ErrorJson, PutWindowJson, RefusalJson, SubmissionJson } from "./responses.ts";

/** The outer step a window fed: peers chosen, peers applied, held-out loss of θ_S and θ_{S+1}. */
export interface OuterStepJson {
  readonly peer_mode: "rated" | "unrated";
  readonly peers: readonly number[];
  readonly skipped: readonly { readonly uid: number; readonly reason: string }[];
  /** Null until a runner has applied it. */
  readonly applied_uids: readonly number[] | null;
  readonly heldout_bpb_before: number | null;
  readonly heldout_bpb_after: number | null;
  readonly global_step_after: number | null;
  readonly completed_at_ms: number | null;
}

/** GET /v1/windows/{window}. */
export interface WindowReportJson {
  readonly window: number;
  readonly state: string;
  readonly start_block: number;
  readonly end_block: number;
  readonly put_window: PutWindowJson | null;
  readonly seed_block: { readonly number: number; readonly hash: string | null; readonly at_ms: number | null } | null;
  /** Submissions by status (received, valid, invalid, copied). */
  readonly submissions: Readonly<Record<string, number>>;
  /** Validated submissions (valid or copied) by gradient format version. */
  readonly format_versions: Readonly<Record<string, number>>;
  /** Refused uploads by code. */
  readonly refusals: Readonly<Record<string, number>>;
  readonly copies: readonly { readonly uid: number; readonly grade: string }[];
  readonly outer_step: OuterStepJson | null;
}

export interface EvaluationJson {
  readonly submission_id: number;
  readonly window: number;
  readonly uid: number;
  readonly batch_id: number;
  readonly runner_id: string;
  readonly error: ErrorJson | null;
  readonly loss_before_own: number | null;
  readonly loss_after_own: number | null;
  readonly loss_before_random: number | null;
  readonly loss_after_random: number | null;
  /** Each sample's mean loss behind the indicator's test (null for older records and errors). */
  readonly sample_losses: SampleLossesJson | null;
  readonly own_seed: string | null;
  readonly random_seed: string | null;
  readonly own_samples: number[] | null;
  readonly random_samples: number[] | null;
  readonly eval_lr: number | null;
  /** ★ The uids whose gradients made the window's reference step (its dispatched submissions). */
  readonly reference_uids: number[];
  readonly decode_ms: number | null;
  readonly apply_ms: number | null;
  readonly forward_ms: number | null;
  readonly restore_ms: number | null;
  readonly total_ms: number | null;
  readonly created_at_ms: number;
}

export interface PenaltyJson {
  readonly kind: string;
  /** The multiplier applied (0: a reset or a zeroing; 1: there was nothing to bite). */
  readonly factor: number;
  readonly reason: string;
}

/** One uid's line of a scored window: everything that went into its final score. */
export interface ScoreLineJson {
  readonly window: number;
  readonly uid: number;
  readonly hotkey: string;
  readonly outcome:
    | "evaluated"
    | "eval_failed"
    | "invalid"
    | "copied"
    | "not_evaluated"
    | "refused"
    | "absent"
    | "deregistered";
  readonly submission_id: number | null;
  readonly code: string | null;
  readonly gradient_score: number | null;
  readonly own_improvement: number | null;
  readonly random_improvement: number | null;
  readonly indicator: number | null;
  /** The own-data statistic of this evaluation (section 2.4): standard errors; null when decided by means. */
  readonly indicator_t: number | null;
  /** Templar's BMA of the indicator, kept for comparison (not in the final score). */
  readonly bma_before: number;
  readonly bma: number;
  /** ★ The own-data evidence after this window (section 2.5) and the share of the final score it earns. */
  readonly evidence: number;
  readonly pay_factor: number;
  readonly steps_behind: number | null;
  readonly sync_score: number | null;
  readonly mu_before: number | null;
  readonly sigma_before: number | null;
  readonly mu: number | null;
  readonly sigma: number | null;
  readonly ordinal: number | null;
  readonly matched: boolean;
  readonly final_before: number;
  readonly final_score: number;
  readonly penalties: readonly PenaltyJson[];
  readonly created_at_ms: number;
}

export interface WeightSetEventJson {
  readonly at_ms: number;
  readonly event: string;
  readonly tx_hash: string | null;
  readonly block: number | null;
  readonly code: string | null;
  readonly message: string;
}

/** A weight vector computed after a scored window, and its way to the chain. */
export interface WeightSetJson {
  readonly id: number;
  readonly window: number;
  readonly netuid: number;
  readonly status:
    | "pending"
    | "submitted"
    | "committing"
    | "committed"
    | "revealing"
    | "timelocked"
    | "set"
    | "dropped"
    | "superseded";
  /** How its current attempt goes on chain, chosen from chain state for each attempt; null before the first. */
  readonly mode: "direct" | "hash-commit-reveal" | "timelocked" | null;
  readonly uids: readonly number[];
  readonly weights: readonly number[];
  readonly values: readonly number[];
  readonly version_key: string;
  readonly attempts: number;
  readonly next_attempt_at_ms: number;
  readonly error: ErrorJson | null;
  readonly tx_hash: string | null;
  readonly commit_block: number | null;
  /** The block the weights were set in, or (timelocked) the chain revealed them in. */
  readonly set_block: number | null;
  /** Timelocked: the drand round the commit is encrypted to. */
  readonly reveal_round: number | null;
  /** Timelocked: the first block of the expected reveal epoch. */
  readonly reveal_epoch_start_block: number | null;
  /** Timelocked: the epoch whose bucket holds the commit, once seen there. */
  readonly commit_epoch: number | null;
  readonly created_at_ms: number;
  readonly updated_at_ms: number;
  readonly events: readonly WeightSetEventJson[];
}

/** One uid of the weight vector, with the scores that put it there. */
export interface WeightEntryJson {
  readonly uid: number;
  readonly hotkey: string | null;
  readonly tier: "burn" | "gather" | "reserve";
  readonly weight: number;
  /** The u16 sent on chain (the largest weight is 65535). */
  readonly value: number;
  readonly final_score: number | null;
  readonly ordinal: number | null;
  readonly evidence: number | null;
  readonly pay_factor: number | null;
  readonly sync_score: number | null;
  readonly steps_behind: number | null;
  /** Why it is paid what it is. */
  readonly explanation: string | null;
}

/** A uid with a score state and no weight, and why. */
export interface UnpaidJson {
  readonly uid: number;
  readonly hotkey: string;
  readonly final_score: number;
  readonly evidence: number;
  readonly pay_factor: number;
  readonly explanation: string;
}

/** The weight vector the validator would set now (after its latest scored window), and why. */
export interface WeightsPreviewJson {
  readonly window: number | null;
  readonly netuid: number;
  readonly version_key: string;
  readonly burn_uid: number;
  readonly burn_rate: number;
  readonly weights: readonly WeightEntryJson[];
  /** uids with a score state but no weight (final score ≤ 0), and why. */
  readonly unpaid: readonly UnpaidJson[];
  /** The penalties of the latest scored window. */
  readonly penalties: readonly (PenaltyJson & { readonly uid: number; readonly hotkey: string })[];
  /** The newest weight set and where it stands. */
  readonly latest_set: WeightSetJson | null;
}

/** `GET /v1/miners/{uid}`: what the validator knows of a uid and why it is paid what it is. */
export interface MinerJson {
  readonly uid: number;
  /** The registered hotkey, else the hotkey of its latest state or score line. */
  readonly hotkey: string | null;
  readonly registered: boolean;
  /** Its carried score state; null before it is first scored. */
  readonly state: {
    readonly mu: number | null;
    readonly sigma: number | null;
    readonly ordinal: number | null;
    readonly evidence: number;
    readonly pay_factor: number;
    readonly bma: number;
    readonly sync_score: number | null;
    readonly steps_behind: number | null;
    readonly final_score: number;
    readonly ban_windows_left: number;
    readonly inactive_since: number | null;
    readonly updated_window: number;
    readonly explanation: string;
  } | null;
  /** Its share in the newest weight set (null before the first one). */
  readonly weight: { readonly window: number; readonly status: string; readonly share: number } | null;
  /** Its latest score lines, newest first: the statistics its evidence is made of. */
  readonly recent: readonly ScoreLineJson[];
}
