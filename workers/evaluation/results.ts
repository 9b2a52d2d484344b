/**
 * A runner's results for a leased evaluation batch, recorded exactly once: every evaluation is
 * inserted in the transaction that completes the batch (leases/job-leases.ts), which commits only
 * while the lease holds it. A repeated post changes nothing; a post from a lease that expired or
 * was returned is refused and changes nothing either. The last batch done completes the window.
 */
import { type EvaluationResult, evaluationResultsBody } from "../../schema/api/runner-requests.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { WorkerContext } from "../context.ts";
import { parseRequest } from "../http/validate.ts";
import { completeJob, resultsJob } from "../leases/job-leases.ts";
import { log } from "../logging/log.ts";
import { queueAdvance } from "../model/model-advance.ts";
import { isReady, tryTransition } from "../windows/window-lifecycle.ts";
import { windowDraws } from "./work-order.ts";

const LOSSES = ["loss_before_own", "loss_after_own", "loss_before_random", "loss_after_random"] as const;
const DURATIONS = ["decode_ms", "apply_ms", "forward_ms", "restore_ms", "total_ms"] as const;

/** Parses posted results (schema/api/runner-requests.ts) and checks they cover the batch's submissions; BAD_REQUEST otherwise. */
export function checkResults(body: unknown, items: readonly number[]): EvaluationResult[] {
  const results = parseRequest(evaluationResultsBody, body).evaluations;
  const ids = results.map((r) => r.submission_id);
  if (ids.length !== items.length || [...ids].sort((a, b) => a - b).some((id, i) => id !== items[i])) {
    throw new EdgeError("BAD_REQUEST", `results must cover exactly the batch's submissions ${items.join(", ")}`);
  }
  return results;
}

/**
 * Moves a window to "evaluated" once none of its batches is pending or leased, queueing its outer
 * step with peers chosen from the evaluations; true if this call did.
 */
export async function completeWindowIfDone(ctx: WorkerContext, window: number): Promise<boolean> {
  if (!(await isReady(ctx, "complete", window))) return false;
  const done = (await tryTransition(ctx, "complete", window, await queueAdvance(ctx, window))) !== null;
  if (done) log.info("window.evaluated", { window });
  return done;
}

/** Records the results of a lease; `duplicate` when the same lease had recorded them already. */
export async function recordResults(
  ctx: WorkerContext,
  runnerId: string,
  leaseId: number,
  body: unknown,
): Promise<{ recorded: number; duplicate: boolean }> {
  const { job: batch, completed } = await resultsJob(ctx, runnerId, leaseId);
  if (completed) return { recorded: 0, duplicate: true };
  const items = await ctx.d1
    .prepare(
      `SELECT i.submission_id AS id, s.uid AS uid FROM evaluation_batch_items i JOIN submissions s ON s.id = i.submission_id
       WHERE i.batch_id = ? ORDER BY i.submission_id`,
    )
    .bind(batch.id)
    .all<{ id: number; uid: number }>();
  const results = checkResults(
    body,
    items.results.map((i) => i.id),
  );
  const draws = await windowDraws(ctx, batch.window);
  const uidOf = new Map(items.results.map((i) => [i.id, i.uid]));
  for (const r of results) {
    const s = r.sample_losses;
    const own = draws.own(uidOf.get(r.submission_id) as number).samples.length;
    if (s && (s.own_before.length !== own || s.random_before.length !== draws.random.samples.length))
      throw new EdgeError(
        "BAD_REQUEST",
        `submission ${r.submission_id}: sample_losses must have one loss per drawn sample`,
      );
  }
  const now = ctx.now();
  const evalLr = ctx.config.hparams.training.outer_learning_rate * ctx.config.hparams.evaluation.eval_lr_factor;
  await completeJob(
    ctx,
    batch,
    leaseId,
    results.map((r) => {
      const uid = uidOf.get(r.submission_id) as number;
      const own = draws.own(uid);
      return ctx.d1
        .prepare(
          `INSERT INTO evaluations (submission_id, window, uid, batch_id, lease_id, runner_id, error_code, error_message,
             loss_before_own, loss_after_own, loss_before_random, loss_after_random, sample_losses, own_seed, random_seed, own_samples,
             random_samples, eval_lr, decode_ms, apply_ms, forward_ms, restore_ms, total_ms, created_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (submission_id) DO NOTHING`,
        )
        .bind(
          r.submission_id,
          batch.window,
          uid,
          batch.id,
          leaseId,
          runnerId,
          r.error?.code ?? null,
          r.error?.message ?? null,
          ...LOSSES.map((k) => (r.error ? null : (r[k] as number))),
          r.error || !r.sample_losses ? null : JSON.stringify(r.sample_losses),
          String(own.seed),
          String(draws.random.seed),
          JSON.stringify(own.samples),
          JSON.stringify(draws.random.samples),
          evalLr,
          ...DURATIONS.map((k) => r[k] ?? null),
          now,
        );
    }),
  );
  log.info("evaluation.recorded", {
    window: batch.window,
    batch_id: batch.id,
    lease_id: leaseId,
    runner_id: runnerId,
    evaluations: results.length,
    failed: results.filter((r) => r.error).length,
  });
  await completeWindowIfDone(ctx, batch.window);
  return { recorded: results.length, duplicate: false };
}
