/**
 * The global model: θ_S per window, and the outer step that produced θ_{S+1} from window S.
 */
import { integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** θ_S: the parameters miners train from during window S. */
export const checkpoints = sqliteTable("checkpoints", {
  window: integer("window").primaryKey(),
  objectKey: text("object_key").notNull(),
  sha256: text("sha256").notNull(),
  sizeBytes: integer("size_bytes").notNull(),
  /** Outer steps applied since the initial checkpoint. */
  globalStep: integer("global_step").notNull(),
  /** Held-out loss of θ_S in bits per byte (null until a runner has measured it). */
  heldOutBpb: real("held_out_bpb"),
  /** The window whose outer step produced θ_S; null for the initial parameters or a carried-over θ. */
  advancedFrom: integer("advanced_from"),
  createdAtMs: integer("created_at_ms").notNull(),
});

export const PEER_MODES = ["rated", "unrated"] as const;
export type PeerMode = (typeof PEER_MODES)[number];

/**
 * The outer step of window S: which peers' submissions are aggregated into θ_{S+1} and why the
 * others were left out (chosen when S is validated), then what the runner that applied it
 * reported (the new checkpoint, the dense aggregate, the held-out loss before and after).
 */
export const modelAdvances = sqliteTable("model_advances", {
  window: integer("window").primaryKey(),
  /** The runner job (an evaluation_batches row of kind "advance"). */
  batchId: integer("batch_id").notNull(),
  /** rated: the uids the weights pay; unrated: nobody is rated yet, every valid submission. */
  peerMode: text("peer_mode", { enum: PEER_MODES }).notNull(),
  peers: text("peers", { mode: "json" }).$type<{ uid: number; submissionId: number }[]>().notNull(),
  skipped: text("skipped", { mode: "json" }).$type<{ uid: number; reason: string }[]>().notNull(),
  /** Peers the runner actually aggregated (unrated mode drops zero or non-finite norms). */
  appliedUids: text("applied_uids", { mode: "json" }).$type<number[]>(),
  /** Held-out loss in bits per byte of θ_S and of θ_{S+1}, as the runner measured them. */
  heldoutBpbBefore: real("heldout_bpb_before"),
  heldoutBpbAfter: real("heldout_bpb_after"),
  aggregateKey: text("aggregate_key"),
  aggregateSha256: text("aggregate_sha256"),
  outerLearningRate: real("outer_learning_rate").notNull(),
  createdAtMs: integer("created_at_ms").notNull(),
  completedAtMs: integer("completed_at_ms"),
});

/**
 * θ at the param_sample positions of a base checkpoint, read once from R2 for the sync check,
 * and the EMA of how far each position moved per checkpoint up to it (null for the first).
 */
export const checkpointSamples = sqliteTable("checkpoint_samples", {
  /** The checkpoint's window (0: the initial checkpoint). */
  window: integer("window").primaryKey(),
  objectKey: text("object_key").notNull(),
  sample: text("sample", { mode: "json" }).$type<Record<string, number[]>>().notNull(),
  stepEma: text("step_ema", { mode: "json" }).$type<Record<string, number[]>>(),
  /** The checkpoint the EMA's last step was measured from. */
  previousWindow: integer("previous_window"),
  createdAtMs: integer("created_at_ms").notNull(),
});
