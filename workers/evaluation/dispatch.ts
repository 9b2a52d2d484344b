/**
 * Evaluation dispatch (docs/SPEC.md, "Runners"): a validated window's valid, non-copied
 * submissions are cut into batches of `batch_submissions` in the transaction that moves the window
 * on; runners then lease them (leases/job-leases.ts). A window with nothing to evaluate skips
 * evaluation, and its outer step (no peers) is queued at once.
 */
import type { WorkerContext } from "../context.ts";
import { log } from "../logging/log.ts";
import { queueAdvance } from "../model/model-advance.ts";
import { tryTransition, windowsReadyFor } from "../windows/window-lifecycle.ts";

/** Dispatches every validated window whose θ_S is settled; returns the windows dispatched. */
export async function dispatchValidatedWindows(ctx: WorkerContext): Promise<{ window: number; batches: number }[]> {
  const out: { window: number; batches: number }[] = [];
  const size = ctx.config.hparams.evaluation.batch_submissions;
  for (const window of await windowsReadyFor(ctx, "dispatch")) {
    const subs = await ctx.d1
      .prepare("SELECT id FROM submissions WHERE window = ? AND status = 'valid' ORDER BY id")
      .bind(window)
      .all<{ id: number }>();
    const now = ctx.now();
    const statements: D1PreparedStatement[] = subs.results.length ? [] : await queueAdvance(ctx, window);
    for (let i = 0; i < subs.results.length; i += size) {
      statements.push(
        ctx.d1
          .prepare(
            "INSERT INTO evaluation_batches (window, state, attempts, created_at_ms) VALUES (?, 'pending', 0, ?)",
          )
          .bind(window, now),
      );
      // Inside the transaction the newest batch is the one just inserted.
      for (const { id } of subs.results.slice(i, i + size)) {
        statements.push(
          ctx.d1
            .prepare(
              "INSERT INTO evaluation_batch_items (batch_id, submission_id) VALUES ((SELECT max(id) FROM evaluation_batches), ?)",
            )
            .bind(id),
        );
      }
    }
    // Refused if another tick dispatched S first.
    const taken = await tryTransition(ctx, subs.results.length ? "dispatch" : "skip_evaluation", window, statements);
    if (!taken) continue;
    const batches = Math.ceil(subs.results.length / size);
    out.push({ window, batches });
    log.info("evaluation.dispatched", { window, submissions: subs.results.length, batches });
  }
  return out;
}
