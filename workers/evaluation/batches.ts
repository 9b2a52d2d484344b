/**
 * Evaluation batches and their leases (docs/SPEC.md, "Runners"): a validated window's valid,
 * non-copied submissions are cut into batches; a runner leases one at a time, renews the lease by
 * heartbeat, and posts results once. An expired lease puts the batch back and counts as a failed
 * attempt; a batch that fails `max_attempts` times is parked with its error.
 *
 * Every step that must not interleave with another runner's is one SQL statement or one D1
 * batch (a transaction), so concurrent runners can never hold or complete the same batch twice.
 */
import { EdgeError } from "../../schema/errors.ts";
import type { WorkerContext } from "../context.ts";
import { log } from "../logging/log.ts";
import { queueAdvance } from "../model/model-advance.ts";

interface BatchRow {
  id: number;
  window: number;
  kind: "evaluate" | "advance";
  state: string;
  lease_id: number | null;
  lease_runner_id: string | null;
  lease_expires_at_ms: number | null;
}

/**
 * Cuts every validated window's valid submissions into evaluation batches and queues its outer
 * step; returns the windows dispatched.
 */
export async function dispatchValidatedWindows(ctx: WorkerContext): Promise<{ window: number; batches: number }[]> {
  const ready = await ctx.d1
    .prepare("SELECT window FROM windows WHERE state = 'validated' ORDER BY window")
    .all<{ window: number }>();
  const out: { window: number; batches: number }[] = [];
  const size = ctx.config.hparams.evaluation.batch_submissions;
  for (const { window } of ready.results) {
    // θ_S must be settled first: the outer step of S−1 done or given up (parked).
    const unsettled = await ctx.d1
      .prepare(
        "SELECT 1 FROM evaluation_batches WHERE kind = 'advance' AND window = ? AND state IN ('pending', 'leased') LIMIT 1",
      )
      .bind(window - 1)
      .first();
    if (unsettled) continue;
    const subs = await ctx.d1
      .prepare("SELECT id FROM submissions WHERE window = ? AND status = 'valid' ORDER BY id")
      .bind(window)
      .all<{ id: number }>();
    const now = ctx.now();
    const statements: D1PreparedStatement[] = await queueAdvance(ctx, window);
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
    const next = subs.results.length ? "evaluating" : "evaluated";
    statements.push(
      ctx.d1
        .prepare("UPDATE windows SET state = ?, updated_at_ms = ? WHERE window = ? AND state = 'validated'")
        .bind(next, now, window),
    );
    await ctx.d1.batch(statements);
    out.push({ window, batches: Math.ceil(subs.results.length / size) });
    log.info("evaluation.dispatched", {
      window,
      submissions: subs.results.length,
      batches: Math.ceil(subs.results.length / size),
    });
  }
  return out;
}

/** Puts back the batches whose lease has expired (a failed attempt; parked at max_attempts). */
export async function expireLeases(ctx: WorkerContext): Promise<number> {
  const now = ctx.now();
  const max = ctx.config.hparams.evaluation.max_attempts;
  const [, expired] = await ctx.d1.batch([
    ctx.d1
      .prepare(
        "UPDATE evaluation_leases SET outcome = 'expired', ended_at_ms = ? WHERE outcome = 'active' AND expires_at_ms < ?",
      )
      .bind(now, now),
    ctx.d1
      .prepare(
        `UPDATE evaluation_batches SET
           state = CASE WHEN attempts + 1 >= ? THEN 'parked' ELSE 'pending' END,
           attempts = attempts + 1, lease_id = NULL, lease_runner_id = NULL, lease_expires_at_ms = NULL,
           last_error_code = 'LEASE_EXPIRED', last_error_message = 'the lease expired before results arrived'
         WHERE state = 'leased' AND lease_expires_at_ms < ?`,
      )
      .bind(max, now),
  ]);
  const count = expired?.meta.changes ?? 0;
  if (count > 0) log.warn("lease.expired", { batches: count, msg: `${count} expired lease(s) put back or parked` });
  return count;
}

export interface Lease {
  readonly id: number;
  readonly batchId: number;
  readonly window: number;
  readonly kind: "evaluate" | "advance";
  readonly expiresAtMs: number;
}

/** Leases a pending batch to a runner (outer steps first, then the oldest), or returns null when there is none. */
export async function leaseBatch(ctx: WorkerContext, runnerId: string): Promise<Lease | null> {
  await expireLeases(ctx);
  const now = ctx.now();
  const expiresAtMs = now + ctx.config.hparams.evaluation.lease_seconds * 1000;
  const claimed = await ctx.d1
    .prepare(
      `UPDATE evaluation_batches SET state = 'leased', lease_runner_id = ?, lease_expires_at_ms = ?, lease_id = NULL
       WHERE id = (SELECT id FROM evaluation_batches WHERE state = 'pending' ORDER BY kind = 'advance' DESC, window, id LIMIT 1)
       RETURNING id, window, kind`,
    )
    .bind(runnerId, expiresAtMs)
    .first<{ id: number; window: number; kind: Lease["kind"] }>();
  if (!claimed) return null;
  const lease = await ctx.d1
    .prepare(
      "INSERT INTO evaluation_leases (batch_id, runner_id, leased_at_ms, expires_at_ms, outcome) VALUES (?, ?, ?, ?, 'active') RETURNING id",
    )
    .bind(claimed.id, runnerId, now, expiresAtMs)
    .first<{ id: number }>();
  const leaseId = (lease as { id: number }).id;
  await ctx.d1
    .prepare("UPDATE evaluation_batches SET lease_id = ? WHERE id = ? AND lease_runner_id = ? AND state = 'leased'")
    .bind(leaseId, claimed.id, runnerId)
    .run();
  log.info("lease.granted", {
    window: claimed.window,
    batch_id: claimed.id,
    lease_id: leaseId,
    runner_id: runnerId,
    kind: claimed.kind,
    expires_at_ms: expiresAtMs,
  });
  return { id: leaseId, batchId: claimed.id, window: claimed.window, kind: claimed.kind, expiresAtMs };
}

/** The batch a runner's live lease holds; LEASE_NOT_HELD otherwise. */
export async function heldBatch(ctx: WorkerContext, runnerId: string, leaseId: number): Promise<BatchRow> {
  const batch = await ctx.d1
    .prepare(
      "SELECT id, window, kind, state, lease_id, lease_runner_id, lease_expires_at_ms FROM evaluation_batches WHERE lease_id = ?",
    )
    .bind(leaseId)
    .first<BatchRow>();
  if (
    !batch ||
    batch.lease_runner_id !== runnerId ||
    batch.state !== "leased" ||
    (batch.lease_expires_at_ms ?? 0) < ctx.now()
  ) {
    throw new EdgeError("LEASE_NOT_HELD", `lease ${leaseId} is not held by runner ${runnerId}`);
  }
  return batch;
}

/** Extends a held lease by lease_seconds; returns the new expiry. */
export async function renewLease(ctx: WorkerContext, runnerId: string, leaseId: number): Promise<number> {
  const batch = await heldBatch(ctx, runnerId, leaseId);
  const now = ctx.now();
  const expiresAtMs = now + ctx.config.hparams.evaluation.lease_seconds * 1000;
  const [renewed] = await ctx.d1.batch([
    ctx.d1
      .prepare(
        "UPDATE evaluation_batches SET lease_expires_at_ms = ? WHERE id = ? AND lease_id = ? AND state = 'leased'",
      )
      .bind(expiresAtMs, batch.id, leaseId),
    ctx.d1.prepare("UPDATE evaluation_leases SET expires_at_ms = ? WHERE id = ?").bind(expiresAtMs, leaseId),
    ctx.d1.prepare("UPDATE runners SET last_heartbeat_at_ms = ? WHERE id = ?").bind(now, runnerId),
  ]);
  if (!renewed?.meta.changes) throw new EdgeError("LEASE_NOT_HELD", `lease ${leaseId} ended while being renewed`);
  return expiresAtMs;
}

/**
 * Gives a lease back. Without an error (a graceful shutdown) the batch is simply pending again;
 * with one (the runner could not do the work) it counts as a failed attempt.
 */
export async function releaseLease(
  ctx: WorkerContext,
  runnerId: string,
  leaseId: number,
  error?: { code: string; message: string },
): Promise<void> {
  const batch = await heldBatch(ctx, runnerId, leaseId);
  const now = ctx.now();
  const putBack = error
    ? ctx.d1
        .prepare(
          `UPDATE evaluation_batches SET
             state = CASE WHEN attempts + 1 >= ? THEN 'parked' ELSE 'pending' END, attempts = attempts + 1,
             lease_id = NULL, lease_runner_id = NULL, lease_expires_at_ms = NULL, last_error_code = ?, last_error_message = ?
           WHERE id = ? AND lease_id = ? AND state = 'leased'`,
        )
        .bind(ctx.config.hparams.evaluation.max_attempts, error.code, error.message, batch.id, leaseId)
    : ctx.d1
        .prepare(
          `UPDATE evaluation_batches SET state = 'pending', lease_id = NULL, lease_runner_id = NULL, lease_expires_at_ms = NULL
           WHERE id = ? AND lease_id = ? AND state = 'leased'`,
        )
        .bind(batch.id, leaseId);
  await ctx.d1.batch([
    putBack,
    ctx.d1
      .prepare("UPDATE evaluation_leases SET outcome = ?, ended_at_ms = ? WHERE id = ?")
      .bind(error ? "failed" : "returned", now, leaseId),
  ]);
  log.info("lease.released", {
    window: batch.window,
    batch_id: batch.id,
    lease_id: leaseId,
    runner_id: runnerId,
    outcome: error ? "failed" : "returned",
    ...(error ? { code: error.code, msg: error.message } : {}),
  });
}

/** Moves a window to "evaluated" once none of its batches is pending or leased. */
export async function completeWindowIfDone(ctx: WorkerContext, window: number): Promise<boolean> {
  const done = await ctx.d1
    .prepare(
      `UPDATE windows SET state = 'evaluated', updated_at_ms = ?
       WHERE window = ? AND state = 'evaluating'
         AND NOT EXISTS (SELECT 1 FROM evaluation_batches WHERE window = ? AND kind = 'evaluate' AND state IN ('pending', 'leased'))`,
    )
    .bind(ctx.now(), window, window)
    .run();
  if (done.meta.changes > 0) log.info("window.evaluated", { window });
  return done.meta.changes > 0;
}

/** The batch a lease was for (held or not), for results that may arrive twice or late. */
export async function batchOfLease(
  ctx: WorkerContext,
  runnerId: string,
  leaseId: number,
): Promise<BatchRow & { lease_outcome: string }> {
  const row = await ctx.d1
    .prepare(
      `SELECT b.id, b.window, b.kind, b.state, b.lease_id, b.lease_runner_id, b.lease_expires_at_ms, l.outcome AS lease_outcome
       FROM evaluation_leases l JOIN evaluation_batches b ON b.id = l.batch_id WHERE l.id = ? AND l.runner_id = ?`,
    )
    .bind(leaseId, runnerId)
    .first<BatchRow & { lease_outcome: string }>();
  if (!row) throw new EdgeError("LEASE_NOT_HELD", `runner ${runnerId} holds no lease ${leaseId}`);
  return row;
}
