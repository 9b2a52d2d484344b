/**
 * Re-running a window's evaluation (an admin action), defined so nothing stored is lost:
 *
 * - allowed while the window is "evaluating" or "evaluated", i.e. dispatched but not scored;
 *   a scored window is refused (RERUN_REFUSED): its scores already carry into the uid states,
 *   later windows and weight sets, and scoring cannot be undone line by line. A window not yet
 *   dispatched is refused too: it has nothing to re-run.
 * - in one D1 transaction, the lifecycle's `rerun` transition, a compare-and-set on the state
 *   read (a window scored or re-run meanwhile is refused, nothing written): an admin_actions row
 *   records the reason and every evaluation batch as it was (state, attempts, lease, last
 *   error); the window's evaluations are copied to archived_evaluations (each row as
 *   JSON) and deleted; leases still out are ended as "revoked" (their results will be refused
 *   with LEASE_NOT_HELD); the evaluation batches go back to pending with zero attempts; the window
 *   goes back to "evaluating". Runners then evaluate it again and the cron scores it as usual.
 * - the window's outer step (its "advance" batch) is left alone: it does not depend on the
 *   evaluations.
 */
import { getTableColumns } from "drizzle-orm";
import { evaluations } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { WorkerContext } from "../context.ts";
import { log } from "../logging/log.ts";
import { commitTransition, WINDOW_TRANSITIONS, windowState } from "../windows/window-lifecycle.ts";

export interface RerunReport {
  readonly window: number;
  readonly admin_action_id: number;
  readonly state_before: string;
  readonly batches_reset: number;
  readonly evaluations_archived: number;
  readonly leases_revoked: number;
}

interface BatchBefore {
  id: number;
  state: string;
  attempts: number;
  lease_id: number | null;
  lease_runner_id: string | null;
  last_error_code: string | null;
  last_error_message: string | null;
  completed_at_ms: number | null;
}

/** `json_object('col', col, …)` over every column of evaluations (JSON columns embedded as JSON). */
function evaluationRowJson(): string {
  const pairs = Object.values(getTableColumns(evaluations)).map((c) =>
    c.dataType === "json" ? `'${c.name}', json(${c.name})` : `'${c.name}', ${c.name}`,
  );
  return `json_object(${pairs.join(", ")})`;
}

/** Re-runs the evaluation of `window` as the module comment defines; RERUN_REFUSED or NOT_FOUND otherwise. */
export async function rerunEvaluation(ctx: WorkerContext, window: number, reason: string | null): Promise<RerunReport> {
  const { d1 } = ctx;
  // `window` goes into the SQL text of the statements below: it must be a plain integer.
  if (!Number.isSafeInteger(window) || window < 0) throw new EdgeError("BAD_REQUEST", `bad window ${window}`);
  const win = await windowState(d1, window);
  if (!win) throw new EdgeError("NOT_FOUND", `no window ${window}`);
  const rerunnable: readonly string[] = WINDOW_TRANSITIONS.rerun.from;
  if (!rerunnable.includes(win.state)) {
    const why =
      win.state === "scored"
        ? "it is scored: its scores already carry into later windows and weight sets"
        : "its evaluation was not dispatched yet";
    throw new EdgeError("RERUN_REFUSED", `window ${window} is ${win.state}: ${why}`, { state: win.state });
  }
  const batches = await d1
    .prepare(
      `SELECT id, state, attempts, lease_id, lease_runner_id, last_error_code, last_error_message, completed_at_ms
       FROM evaluation_batches WHERE window = ? AND kind = 'evaluate' ORDER BY id`,
    )
    .bind(window)
    .all<BatchBefore>();
  const now = ctx.now();
  const ofWindow = `SELECT id FROM evaluation_batches WHERE window = ${window} AND kind = 'evaluate'`;
  let results: D1Result[];
  try {
    // Compare-and-set on what was read: a window scored or re-run meanwhile is refused, with nothing written.
    results = await commitTransition(
      ctx,
      "rerun",
      window,
      [
        d1
          .prepare(
            "INSERT INTO admin_actions (action, window, reason, details, at_ms) VALUES ('rerun_evaluation', ?, ?, ?, ?)",
          )
          .bind(window, reason, JSON.stringify({ state_before: win.state, batches: batches.results }), now),
        d1.prepare(
          `INSERT INTO archived_evaluations (admin_action_id, submission_id, window, uid, row)
           SELECT (SELECT max(id) FROM admin_actions), submission_id, window, uid, ${evaluationRowJson()}
           FROM evaluations WHERE window = ${window}`,
        ),
        d1.prepare(`DELETE FROM evaluations WHERE window = ${window}`),
        d1
          .prepare(
            `UPDATE evaluation_leases SET outcome = 'revoked', ended_at_ms = ? WHERE outcome = 'active' AND batch_id IN (${ofWindow})`,
          )
          .bind(now),
        d1.prepare(
          `UPDATE evaluation_batches SET state = 'pending', attempts = 0, lease_id = NULL, lease_runner_id = NULL,
             lease_expires_at_ms = NULL, completed_at_ms = NULL, last_error_code = NULL, last_error_message = NULL
           WHERE window = ${window} AND kind = 'evaluate'`,
        ),
      ],
      { expectSeq: win.seq },
    );
  } catch (e) {
    if (e instanceof EdgeError && e.code === "WINDOW_STATE_CONFLICT")
      throw new EdgeError("RERUN_REFUSED", `window ${window} changed state while being re-run (scored meanwhile?)`, {
        state: e.details?.state ?? null,
      });
    throw e;
  }
  const [action, archived, , revoked, reset] = results;
  const report: RerunReport = {
    window,
    admin_action_id: action?.meta.last_row_id as number,
    state_before: win.state,
    batches_reset: reset?.meta.changes ?? 0,
    evaluations_archived: archived?.meta.changes ?? 0,
    leases_revoked: revoked?.meta.changes ?? 0,
  };
  log.warn("admin.evaluation_rerun", { ...report, msg: reason ?? undefined });
  return report;
}
