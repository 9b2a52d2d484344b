/**
 * Scoring and weights: what turns loss deltas into the weights that pay miners. Every state
 * change is kept per window (`window_scores`) so a uid's history can be explained line by line,
 * and every weight vector keeps the story of its way to the chain (`weight_set_events`).
 */
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** A penalty as recorded on a uid's line of a window. */
export interface PenaltyJson {
  readonly kind: string;
  /** The multiplier applied (0 for a reset or a zeroing; 1 when there was nothing to bite). */
  readonly factor: number;
  readonly reason: string;
}

export const LINE_OUTCOMES = [
  "evaluated",
  "eval_failed",
  "invalid",
  "copied",
  "not_evaluated",
  "refused",
  "absent",
  "deregistered",
] as const;

/** Per (window, uid): every quantity that went into the uid's final score in that window. */
export const windowScores = sqliteTable(
  "window_scores",
  {
    window: integer("window").notNull(),
    uid: integer("uid").notNull(),
    hotkey: text("hotkey").notNull(),
    outcome: text("outcome", { enum: LINE_OUTCOMES }).notNull(),
    submissionId: integer("submission_id"),
    /** The verdict or evaluation code behind an invalid, failed, copied or refused outcome. */
    code: text("code"),
    /** Relative loss improvement on random samples: what OpenSkill ranks. */
    gradientScore: real("gradient_score"),
    ownImprovement: real("own_improvement"),
    randomImprovement: real("random_improvement"),
    /** +1 if own improvement beat random improvement, −1 otherwise. */
    indicator: integer("indicator"),
    /** The own-data statistic: own vs random per-sample improvement in standard errors (null: compared by means only). */
    indicatorT: real("indicator_t"),
    /** Templar's BMA of the indicator, kept for comparison (not in the final score). */
    bmaBefore: real("bma_before").notNull(),
    bma: real("bma").notNull(),
    /** ★ Own-data evidence after this window (standard errors), and the share of the final score it earns. */
    evidence: real("evidence").notNull().default(0),
    payFactor: real("pay_factor").notNull().default(0),
    /** Steps behind θ_S and the sync factor it gives (null: not measured yet). */
    stepsBehind: real("steps_behind"),
    syncScore: real("sync_score"),
    muBefore: real("mu_before"),
    sigmaBefore: real("sigma_before"),
    mu: real("mu"),
    sigma: real("sigma"),
    ordinal: real("ordinal"),
    matched: integer("matched", { mode: "boolean" }).notNull(),
    finalBefore: real("final_before").notNull(),
    finalScore: real("final_score").notNull(),
    penalties: text("penalties", { mode: "json" }).$type<PenaltyJson[]>().notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.window, t.uid] }), index("window_scores_uid").on(t.uid, t.window)],
);

/** State carried from window to window per uid (its latest line, in a form the next window reads). */
export const uidStates = sqliteTable("uid_states", {
  uid: integer("uid").primaryKey(),
  /** The hotkey this state belongs to: a new registrant at the uid starts fresh. */
  hotkey: text("hotkey").notNull(),
  bma: real("bma").notNull(),
  /** ★ Own-data evidence: the decayed sum of per-window statistics and of their squared weights. */
  evidenceSum: real("evidence_sum").notNull().default(0),
  evidenceWeight: real("evidence_weight").notNull().default(0),
  stepsBehind: real("steps_behind"),
  syncScore: real("sync_score"),
  finalScore: real("final_score").notNull(),
  /** OpenSkill rating; null until the first match and after a reset. */
  mu: real("mu"),
  sigma: real("sigma"),
  /** First window of the current run without an accepted upload; null while active. */
  inactiveSince: integer("inactive_since"),
  /** Windows left in a copy ban (Templar's "naughty" counter). */
  banWindowsLeft: integer("ban_windows_left").notNull(),
  lastSubmissionWindow: integer("last_submission_window"),
  lastEvaluatedWindow: integer("last_evaluated_window"),
  /** The last window scored into this state. */
  updatedWindow: integer("updated_window").notNull(),
});

export const WEIGHT_SET_STATUSES = [
  "pending", // computed; waiting for its (next) attempt
  "submitted", // a set_weights transaction is in the pool
  "committing", // a commit (commit_weights or commit_timelocked_weights) is in the pool
  "committed", // a hash commit is on chain; waiting for its reveal epoch to send reveal_weights
  "revealing", // a reveal_weights transaction is in the pool
  "timelocked", // a timelocked commit is on chain; the chain reveals it in its reveal epoch
  "set", // on chain (set directly, revealed by us, or revealed by the chain)
  "dropped", // the chain dropped the timelocked commit unrevealed (WEIGHTS_REVEAL_DROPPED); terminal
  "superseded", // a newer weight set replaced it before it reached the chain
] as const;
export type WeightSetStatus = (typeof WEIGHT_SET_STATUSES)[number];

/** A weight vector the validator computed after a scored window, and its way to the chain. */
export const weightSets = sqliteTable(
  "weight_sets",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The scored window it was computed after. */
    window: integer("window").notNull().unique(),
    netuid: integer("netuid").notNull(),
    /** uids ascending, their weights (sum 1) and the u16 values sent. */
    uids: text("uids", { mode: "json" }).$type<number[]>().notNull(),
    weights: text("weights", { mode: "json" }).$type<number[]>().notNull(),
    values: text("values", { mode: "json" }).$type<number[]>().notNull(),
    /** The ranked gather and reserve tiers (uids). */
    gather: text("gather", { mode: "json" }).$type<number[]>().notNull(),
    reserve: text("reserve", { mode: "json" }).$type<number[]>().notNull(),
    /** u64 as a decimal string. */
    versionKey: text("version_key").notNull(),
    status: text("status", { enum: WEIGHT_SET_STATUSES }).notNull(),
    /** How the current attempt goes on chain; chosen from chain state when it starts (weights-mode.ts). */
    mode: text("mode", { enum: ["direct", "hash-commit-reveal", "timelocked"] }),
    /** Commit/reveal: the hash committed and its salt (u16 words; the reveal publishes it). */
    commitHash: text("commit_hash"),
    salt: text("salt", { mode: "json" }).$type<number[]>(),
    /** The block the commit landed in. */
    commitBlock: integer("commit_block"),
    /** Timelocked: the drand round the commit is encrypted to, and the first block of its expected reveal epoch. */
    revealRound: integer("reveal_round"),
    revealEpochStartBlock: integer("reveal_epoch_start_block"),
    /** Timelocked: the epoch whose bucket (TimelockedWeightCommits) holds the commit, once seen there. */
    commitEpoch: integer("commit_epoch"),
    /** Timelocked: 0x-hex blake2-256 of the commit bytes, as the chain's event and bucket name it. */
    commitDigest: text("commit_digest"),
    /** Timelocked: the last block searched for the chain's reveal. */
    revealSearchedToBlock: integer("reveal_searched_to_block"),
    /** The transaction in flight: its hash, nonce, and the blocks to search for it. */
    txHash: text("tx_hash"),
    txNonce: integer("tx_nonce"),
    txSubmittedBlock: integer("tx_submitted_block"),
    txValidUntilBlock: integer("tx_valid_until_block"),
    txSearchedToBlock: integer("tx_searched_to_block"),
    /** The block the weights (or the reveal) landed in. */
    setBlock: integer("set_block"),
    setBlockHash: text("set_block_hash"),
    /** Failed attempts so far; the next one waits for nextAttemptAtMs (backoff). */
    attempts: integer("attempts").notNull(),
    nextAttemptAtMs: integer("next_attempt_at_ms").notNull(),
    lastErrorCode: text("last_error_code"),
    lastErrorMessage: text("last_error_message"),
    createdAtMs: integer("created_at_ms").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [index("weight_sets_status").on(t.status)],
);

/** Every step of a weight set on its way to the chain: submissions, inclusions, refusals, waits. */
export const weightSetEvents = sqliteTable(
  "weight_set_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    weightSetId: integer("weight_set_id")
      .notNull()
      .references(() => weightSets.id),
    atMs: integer("at_ms").notNull(),
    event: text("event").notNull(),
    txHash: text("tx_hash"),
    block: integer("block"),
    code: text("code"),
    message: text("message").notNull(),
  },
  (t) => [index("weight_set_events_set").on(t.weightSetId, t.id)],
);
