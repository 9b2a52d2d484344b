/**
 * Evaluation: runners, the batches they lease, and every figure they report.
 */

import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { SampleLossesJson } from "../api/runner.ts";
import { submissions } from "./intake.ts";

/** A gpu-runner allowed to lease batches. Only the token's hash is kept. */
export const runners = sqliteTable("runners", {
  id: text("id").primaryKey(),
  /** Hex sha256 of the runner's bearer token. */
  tokenHash: text("token_hash").notNull().unique(),
  label: text("label"),
  /** What the runner last said it runs on, e.g. "cpu" or "cuda:0 NVIDIA H100". */
  device: text("device"),
  createdAtMs: integer("created_at_ms").notNull(),
  lastHeartbeatAtMs: integer("last_heartbeat_at_ms"),
  /** The runner's last authenticated request (a poll, a beat, a post): its liveness in /v1/status. */
  lastSeenAtMs: integer("last_seen_at_ms"),
  disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
});

export const BATCH_STATES = ["pending", "leased", "done", "parked"] as const;
export type BatchState = (typeof BATCH_STATES)[number];
/** evaluate: measure submissions' loss deltas; advance: apply the window's outer step. */
export const BATCH_KINDS = ["evaluate", "advance"] as const;
export type BatchKind = (typeof BATCH_KINDS)[number];

/** A unit of runner work for one window; leased by one runner at a time. */
export const evaluationBatches = sqliteTable(
  "evaluation_batches",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    window: integer("window").notNull(),
    kind: text("kind", { enum: BATCH_KINDS }).notNull().default("evaluate"),
    state: text("state", { enum: BATCH_STATES }).notNull().default("pending"),
    /** Failed or expired leases so far; at the hparams limit the batch is parked. */
    attempts: integer("attempts").notNull().default(0),
    leaseId: integer("lease_id"),
    leaseRunnerId: text("lease_runner_id").references(() => runners.id),
    leaseExpiresAtMs: integer("lease_expires_at_ms"),
    lastErrorCode: text("last_error_code"),
    lastErrorMessage: text("last_error_message"),
    createdAtMs: integer("created_at_ms").notNull(),
    completedAtMs: integer("completed_at_ms"),
  },
  (t) => [
    index("evaluation_batches_state").on(t.state, t.leaseExpiresAtMs),
    index("evaluation_batches_window").on(t.window),
  ],
);

/** Which submissions a batch evaluates. */
export const evaluationBatchItems = sqliteTable(
  "evaluation_batch_items",
  {
    batchId: integer("batch_id")
      .notNull()
      .references(() => evaluationBatches.id),
    submissionId: integer("submission_id")
      .notNull()
      .references(() => submissions.id),
  },
  (t) => [
    primaryKey({ columns: [t.batchId, t.submissionId] }),
    uniqueIndex("evaluation_batch_items_submission").on(t.submissionId),
  ],
);

/** revoked: an operator re-ran the window's evaluation while the lease was out (docs/DEPLOY.md). */
export const LEASE_OUTCOMES = ["active", "completed", "expired", "returned", "failed", "revoked"] as const;

/** Every lease ever granted: the audit trail of who held which batch and how it ended. */
export const evaluationLeases = sqliteTable(
  "evaluation_leases",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    batchId: integer("batch_id")
      .notNull()
      .references(() => evaluationBatches.id),
    runnerId: text("runner_id")
      .notNull()
      .references(() => runners.id),
    leasedAtMs: integer("leased_at_ms").notNull(),
    expiresAtMs: integer("expires_at_ms").notNull(),
    /** The lease's last heartbeat; null until its first. */
    lastHeartbeatAtMs: integer("last_heartbeat_at_ms"),
    endedAtMs: integer("ended_at_ms"),
    outcome: text("outcome", { enum: LEASE_OUTCOMES }).notNull().default("active"),
  },
  (t) => [index("evaluation_leases_batch").on(t.batchId)],
);

/**
 * One evaluated submission: every loss figure, the seeds and samples, who measured it and how
 * long each step took. Written once; a repeated post changes nothing.
 */
export const evaluations = sqliteTable(
  "evaluations",
  {
    submissionId: integer("submission_id")
      .primaryKey()
      .references(() => submissions.id),
    window: integer("window").notNull(),
    uid: integer("uid").notNull(),
    batchId: integer("batch_id")
      .notNull()
      .references(() => evaluationBatches.id),
    leaseId: integer("lease_id")
      .notNull()
      .references(() => evaluationLeases.id),
    runnerId: text("runner_id")
      .notNull()
      .references(() => runners.id),
    /** Set when the gradient failed on the runner (e.g. non-finite after decode); losses are then null. */
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    lossBeforeOwn: real("loss_before_own"),
    lossAfterOwn: real("loss_after_own"),
    lossBeforeRandom: real("loss_before_random"),
    lossAfterRandom: real("loss_after_random"),
    /** Each sample's mean loss (own and random draws, before and after): the indicator's test. */
    sampleLosses: text("sample_losses", { mode: "json" }).$type<SampleLossesJson>(),
    /** Seeds (decimal or hex) and the sample ids they drew, as JSON. */
    ownSeed: text("own_seed"),
    randomSeed: text("random_seed"),
    ownSamples: text("own_samples", { mode: "json" }).$type<number[]>(),
    randomSamples: text("random_samples", { mode: "json" }).$type<number[]>(),
    evalLr: real("eval_lr"),
    decodeMs: real("decode_ms"),
    applyMs: real("apply_ms"),
    forwardMs: real("forward_ms"),
    restoreMs: real("restore_ms"),
    totalMs: real("total_ms"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [index("evaluations_window").on(t.window), index("evaluations_uid").on(t.uid, t.window)],
);
