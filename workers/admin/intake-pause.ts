/**
 * Pausing intake: while paused, uploads are refused with INTAKE_PAUSED (503) at the points where
 * one would be accepted (a single PUT, opening a multipart session, completing one); stored
 * submissions, validation, evaluation and scoring go on. The switch is a row in D1
 * (admin_actions), so it survives restarts and deploys.
 */
import { desc, inArray } from "drizzle-orm";
import { adminActions } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { WorkerContext } from "../context.ts";
import type { Database } from "../d1.ts";
import { log } from "../logging/log.ts";

export interface IntakeState {
  readonly paused: boolean;
  /** When and why it was last paused or resumed (null: never). */
  readonly since_ms: number | null;
  readonly reason: string | null;
}

/** The query for the newest pause or resume (usable inside a db.batch). */
export function latestIntakeSwitch(db: Database) {
  return db
    .select({ action: adminActions.action, atMs: adminActions.atMs, reason: adminActions.reason })
    .from(adminActions)
    .where(inArray(adminActions.action, ["pause_intake", "resume_intake"]))
    .orderBy(desc(adminActions.id))
    .limit(1);
}

/** The intake state a `latestIntakeSwitch` result describes. */
export function intakeStateOf(rows: readonly { action: string; atMs: number; reason: string | null }[]): IntakeState {
  const last = rows[0];
  return { paused: last?.action === "pause_intake", since_ms: last?.atMs ?? null, reason: last?.reason ?? null };
}

/** Whether intake is paused, and since when. */
export async function intakeState(db: Database): Promise<IntakeState> {
  return intakeStateOf(await latestIntakeSwitch(db));
}

/** Throws INTAKE_PAUSED if `state` is paused. */
export function assertIntakeOpen(state: IntakeState): void {
  if (state.paused) {
    const why = state.reason ? ` (${state.reason})` : "";
    throw new EdgeError("INTAKE_PAUSED", `the operator paused intake${why}; retry later`, {
      paused_since_ms: state.since_ms,
    });
  }
}

/** Pauses or resumes intake (recorded even when it changes nothing); returns the new state. */
export async function switchIntake(ctx: WorkerContext, paused: boolean, reason: string | null): Promise<IntakeState> {
  const atMs = ctx.now();
  await ctx.db.insert(adminActions).values({ action: paused ? "pause_intake" : "resume_intake", reason, atMs });
  log.warn(paused ? "admin.intake_paused" : "admin.intake_resumed", { msg: reason ?? undefined });
  return { paused, since_ms: atMs, reason };
}
