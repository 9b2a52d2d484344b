/**
 * Scoring, ratings and weights: what turns loss deltas into the weights that pay miners.
 * Every state change is kept per window so a uid's history can be explained line by line.
 */
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** A penalty applied to a uid in a window, as recorded. */
export interface PenaltyRecord {
  readonly kind: string;
  /** Multiplier applied, or 0 for a reset. */
  readonly factor: number;
  readonly reason: string;
}

/** Per (window, uid): every quantity that went into the final score. */
export const windowScores = sqliteTable(
  "window_scores",
  {
    window: integer("window").notNull(),
    uid: integer("uid").notNull(),
    /** Relative loss improvement on random samples. */
    gradientScore: real("gradient_score"),
    ownImprovement: real("own_improvement"),
    randomImprovement: real("random_improvement"),
    /** +1 if own improvement beat random improvement, −1 otherwise. */
    indicator: integer("indicator"),
    /** Binary moving average after this window. */
    bma: real("bma").notNull(),
    /** Steps behind the global model, and the sync factor it gives. */
    stepsBehind: real("steps_behind"),
    syncScore: real("sync_score").notNull(),
    penalties: text("penalties", { mode: "json" }).$type<PenaltyRecord[]>().notNull().default([]),
    ordinal: real("ordinal"),
    finalScore: real("final_score").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.window, t.uid] }), index("window_scores_uid").on(t.uid, t.window)],
);

/** Current OpenSkill (Plackett-Luce) rating per uid. */
export const ratings = sqliteTable("ratings", {
  uid: integer("uid").primaryKey(),
  mu: real("mu").notNull(),
  sigma: real("sigma").notNull(),
  updatedWindow: integer("updated_window").notNull(),
});

/** Every rating change, with what caused it. */
export const ratingHistory = sqliteTable(
  "rating_history",
  {
    window: integer("window").notNull(),
    uid: integer("uid").notNull(),
    muBefore: real("mu_before"),
    sigmaBefore: real("sigma_before"),
    mu: real("mu"),
    sigma: real("sigma"),
    /** "match" (rated in this window's match) or "reset" (dropped by a penalty). */
    cause: text("cause", { enum: ["match", "reset"] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.window, t.uid, t.cause] })],
);

/** State carried from window to window per uid. */
export const uidStates = sqliteTable("uid_states", {
  uid: integer("uid").primaryKey(),
  /** The hotkey this state belongs to: a new registrant at the uid starts fresh. */
  hotkey: text("hotkey").notNull(),
  bma: real("bma").notNull().default(0),
  syncScore: real("sync_score").notNull().default(1),
  finalScore: real("final_score").notNull().default(0),
  /** Window from which the uid has had no submission; null while active. */
  inactiveSince: integer("inactive_since"),
  /** Windows left in a copy ban (Templar's "naughty" counter). */
  banWindowsLeft: integer("ban_windows_left").notNull().default(0),
  lastSubmissionWindow: integer("last_submission_window"),
  lastEvaluatedWindow: integer("last_evaluated_window"),
  updatedWindow: integer("updated_window").notNull(),
});

export const WEIGHT_SET_STATUSES = ["pending", "submitted", "included", "committed", "revealed", "failed"] as const;

/** A weight vector the validator computed, and what happened when it went to the chain. */
export const weightSets = sqliteTable(
  "weight_sets",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    window: integer("window").notNull(),
    /** JSON: uids and their normalized weights (sum 1), and the u16 values sent. */
    uids: text("uids", { mode: "json" }).$type<number[]>().notNull(),
    weights: text("weights", { mode: "json" }).$type<number[]>().notNull(),
    weightsU16: text("weights_u16", { mode: "json" }).$type<number[]>(),
    versionKey: integer("version_key").notNull(),
    mode: text("mode", { enum: ["direct", "commit_reveal"] }).notNull(),
    status: text("status", { enum: WEIGHT_SET_STATUSES }).notNull().default("pending"),
    /** Commit/reveal: the committed hash and the salt (a secret until revealed). */
    commitHash: text("commit_hash"),
    salt: text("salt", { mode: "json" }).$type<number[]>(),
    nonce: integer("nonce"),
    txHash: text("tx_hash"),
    blockHash: text("block_hash"),
    blockNumber: integer("block_number"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAtMs: integer("created_at_ms").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [index("weight_sets_status").on(t.status), index("weight_sets_window").on(t.window)],
);

/** The gather set: peers and reserves whose submissions are aggregated from a window on. */
export const peerLists = sqliteTable("peer_lists", {
  firstEffectiveWindow: integer("first_effective_window").primaryKey(),
  createdWindow: integer("created_window").notNull(),
  peers: text("peers", { mode: "json" }).$type<number[]>().notNull(),
  reservePeers: text("reserve_peers", { mode: "json" }).$type<number[]>().notNull(),
  /** True while no one is rated yet: every valid submission surviving the norm clip. */
  initialSelection: integer("initial_selection", { mode: "boolean" }).notNull(),
  createdAtMs: integer("created_at_ms").notNull(),
});
