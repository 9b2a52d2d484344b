/**
 * Operator actions (docs/DEPLOY.md, "Admin"): every one is a row, so what an operator changed
 * and when can always be read back; what an action replaced is kept, never silently dropped.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const ADMIN_ACTIONS = ["pause_intake", "resume_intake", "rerun_evaluation"] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/**
 * Every admin action. Intake is paused while the newest pause_intake/resume_intake row is a
 * pause (no row: intake is open).
 */
export const adminActions = sqliteTable(
  "admin_actions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    action: text("action", { enum: ADMIN_ACTIONS }).notNull(),
    /** The window acted on (rerun_evaluation). */
    window: integer("window"),
    /** The operator's reason, as given. */
    reason: text("reason"),
    /** What the action found and changed, e.g. a re-run's batches as they were before it. */
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>(),
    atMs: integer("at_ms").notNull(),
  },
  (t) => [index("admin_actions_action").on(t.action, t.id)],
);

/** The evaluations a re-run replaced: each row as it was, as JSON keyed by column name. */
export const archivedEvaluations = sqliteTable(
  "archived_evaluations",
  {
    adminActionId: integer("admin_action_id")
      .notNull()
      .references(() => adminActions.id),
    submissionId: integer("submission_id").notNull(),
    window: integer("window").notNull(),
    uid: integer("uid").notNull(),
    row: text("row", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.adminActionId, t.submissionId] }),
    index("archived_evaluations_window").on(t.window),
  ],
);
