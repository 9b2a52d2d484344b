/**
 * What the validator knows of the chain: the metagraph and the window clock.
 * Times are Unix milliseconds (`…AtMs`); block timestamps come from each block's
 * `timestamp.set` inherent.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per uid of the subnet, synced from the metagraph by the cron Worker. */
export const neurons = sqliteTable(
  "neurons",
  {
    uid: integer("uid").primaryKey(),
    hotkey: text("hotkey").notNull(),
    coldkey: text("coldkey").notNull(),
    /** Stake in rao, as a decimal string: it can exceed 2^53. */
    stakeRao: text("stake_rao").notNull(),
    validatorPermit: integer("validator_permit", { mode: "boolean" }).notNull(),
    registrationBlock: integer("registration_block").notNull(),
    /** Block of the metagraph read that last saw this uid with this hotkey. */
    lastSeenBlock: integer("last_seen_block").notNull(),
    lastSeenAtMs: integer("last_seen_at_ms").notNull(),
  },
  (t) => [index("neurons_hotkey").on(t.hotkey)],
);

export const WINDOW_STATES = [
  "training", // the chain is inside window S; uploads for S are not yet accepted
  "put_open", // the put window of S is open
  "put_closed", // the put window has closed; the seed block may not be known yet
  "validated", // every submission has a verdict and copy detection has run
  "evaluating", // evaluation batches are out
  "evaluated", // every batch is done or parked
  "scored", // scores, ratings and weights are computed
] as const;
export type WindowState = (typeof WINDOW_STATES)[number];

/** One row per window S, filled in as the chain reaches each of its blocks. */
export const windows = sqliteTable(
  "windows",
  {
    window: integer("window").primaryKey(),
    startBlock: integer("start_block").notNull(),
    startBlockHash: text("start_block_hash"),
    startBlockAtMs: integer("start_block_at_ms"),
    endBlock: integer("end_block").notNull(),
    endBlockHash: text("end_block_hash"),
    endBlockAtMs: integer("end_block_at_ms"),
    /** Put window of S: [timestamp of block (S+1)·bpw, + time_window_delta_seconds], inclusive. */
    putOpensAtMs: integer("put_opens_at_ms"),
    putClosesAtMs: integer("put_closes_at_ms"),
    /** First block whose timestamp is past putClosesAtMs; its hash seeds fingerprints and random samples. */
    seedBlock: integer("seed_block"),
    seedBlockHash: text("seed_block_hash"),
    seedBlockAtMs: integer("seed_block_at_ms"),
    state: text("state", { enum: WINDOW_STATES }).notNull().default("training"),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [index("windows_state").on(t.state)],
);

/**
 * Every state change of a window, in order (seq 1, 2, …), written in the same transaction as
 * the change by the window lifecycle (workers/windows/window-lifecycle.ts). Its constraints are
 * the lifecycle's guard: an illegal from-state is inserted as NULL, an unmet condition as a NULL
 * to_state, a lost compare-and-set as a duplicate seq, and each fails the whole transaction.
 */
export const windowTransitions = sqliteTable(
  "window_transitions",
  {
    window: integer("window")
      .notNull()
      .references(() => windows.window),
    seq: integer("seq").notNull(),
    /** The transition's name (close_put, validate, dispatch, …). */
    transition: text("transition").notNull(),
    fromState: text("from_state", { enum: WINDOW_STATES }).notNull(),
    toState: text("to_state", { enum: WINDOW_STATES }).notNull(),
    atMs: integer("at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.window, t.seq] })],
);

/** The latest chain head the validator has read (a single row, id 1). */
export const chainHead = sqliteTable("chain_head", {
  id: integer("id").primaryKey(),
  block: integer("block").notNull(),
  hash: text("hash").notNull(),
  timestampMs: integer("timestamp_ms").notNull(),
  /** Worker clock when it was read. */
  seenAtMs: integer("seen_at_ms").notNull(),
});

/**
 * How the chain has been answering (a single row, id 1): whether the recorded head was last judged
 * stale (so the log says it once when it turns, not every tick) and the latest chain failure.
 */
export const chainHealth = sqliteTable("chain_health", {
  id: integer("id").primaryKey(),
  /** 1 while the recorded head is judged stale (workers/clock/head-freshness.ts). */
  stale: integer("stale").notNull().default(0),
  /** Worker clock when `stale` last changed. */
  changedAtMs: integer("changed_at_ms"),
  /** The latest CHAIN_UNAVAILABLE message, and when it happened. */
  lastError: text("last_error"),
  lastErrorAtMs: integer("last_error_at_ms"),
});

/** Rate limits of on-demand chain reads (e.g. the metagraph refresh an unknown hotkey triggers). */
export const refreshThrottle = sqliteTable("refresh_throttle", {
  name: text("name").primaryKey(),
  lastAtMs: integer("last_at_ms").notNull(),
});
