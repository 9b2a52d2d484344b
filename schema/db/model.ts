/**
 * The global model: one checkpoint per window and the aggregate that produced the next one.
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
  /** Held-out loss of θ_S in bits per byte. */
  heldOutBpb: real("held_out_bpb"),
  createdAtMs: integer("created_at_ms").notNull(),
});

/** The aggregate of window S's peer submissions, applied to θ_S to give θ_{S+1}. */
export const aggregates = sqliteTable("aggregates", {
  window: integer("window").primaryKey(),
  objectKey: text("object_key").notNull(),
  sha256: text("sha256").notNull(),
  /** Uids whose submissions went in, and peers that were skipped. */
  uids: text("uids", { mode: "json" }).$type<number[]>().notNull(),
  skippedUids: text("skipped_uids", { mode: "json" }).$type<number[]>().notNull(),
  outerLearningRate: real("outer_learning_rate").notNull(),
  createdAtMs: integer("created_at_ms").notNull(),
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
