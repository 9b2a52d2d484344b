/**
 * Leases of runner jobs (docs/SPEC.md, "Runners"), whatever the job: a runner leases one pending
 * job at a time, renews its lease by heartbeat, gives it back, or completes it with its results.
 * A lease lives `missed_heartbeats × heartbeat_seconds` from its grant or its last beat, so a
 * runner that dies loses its job within that time. An expired lease puts the job back as a failed attempt; a job that fails `max_attempts` times
 * is parked with its error.
 *
 * This module knows no job kinds. Which kinds go first is the caller's to say, and what a
 * completed job records is its own module's: `completeJob` commits those rows with the
 * completion, so results are recorded only from the lease that holds the job, exactly once.
 * Jobs are the rows of `evaluation_batches`; every step that must not interleave with another
 * runner's is one statement or one D1 batch (a transaction).
 */
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";
import { leaseLifeMs } from "../../schema/hparams.ts";
import type { WorkerContext } from "../context.ts";
import { constraintViolation } from "../d1.ts";
import { log } from "../logging/log.ts";

/** A job as the lease checks see it. */
export interface Job {
  readonly id: number;
  readonly window: number;
  readonly kind: string;
  readonly state: string;
  readonly leaseId: number | null;
  readonly leaseRunnerId: string | null;
  readonly leaseExpiresAtMs: number | null;
}

/** A lease a runner holds on a job. */
export interface Lease {
  readonly id: number;
  readonly jobId: number;
  readonly window: number;
  readonly kind: string;
  readonly expiresAtMs: number;
}

type LeaseContext = Pick<WorkerContext, "d1" | "now" | "config">;

const JOB_COLUMNS = `id, window, kind, state, lease_id AS leaseId, lease_runner_id AS leaseRunnerId,
  lease_expires_at_ms AS leaseExpiresAtMs`;

/** Puts back the jobs whose lease has expired (a failed attempt; parked at max_attempts); returns how many. */
export async function expireLeases(ctx: LeaseContext): Promise<number> {
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
           last_error_code = ?, last_error_message = 'the lease expired before results arrived'
         WHERE state = 'leased' AND lease_expires_at_ms < ?`,
      )
      .bind(max, "LEASE_EXPIRED" satisfies ErrorCode, now),
  ]);
  const count = expired?.meta.changes ?? 0;
  if (count > 0) log.warn("lease.expired", { batches: count, msg: `${count} expired lease(s) put back or parked` });
  return count;
}

/**
 * Leases the next pending job to a runner, or returns null when there is none: kinds in the
 * order of `kindsFirst` (any other kind after them), then the oldest window, then the oldest job.
 */
export async function leaseJob(
  ctx: LeaseContext,
  runnerId: string,
  kindsFirst: readonly string[],
): Promise<Lease | null> {
  await expireLeases(ctx);
  const now = ctx.now();
  const expiresAtMs = now + leaseLifeMs(ctx.config.hparams.evaluation);
  const rank = kindsFirst.length
    ? `CASE kind ${kindsFirst.map((_, i) => `WHEN ?${i + 3} THEN ${i}`).join(" ")} ELSE ${kindsFirst.length} END`
    : "0";
  const claimed = await ctx.d1
    .prepare(
      `UPDATE evaluation_batches SET state = 'leased', lease_runner_id = ?1, lease_expires_at_ms = ?2, lease_id = NULL
       WHERE id = (SELECT id FROM evaluation_batches WHERE state = 'pending' ORDER BY ${rank}, window, id LIMIT 1)
       RETURNING id, window, kind`,
    )
    .bind(runnerId, expiresAtMs, ...kindsFirst)
    .first<{ id: number; window: number; kind: string }>();
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
  return { id: leaseId, jobId: claimed.id, window: claimed.window, kind: claimed.kind, expiresAtMs };
}

const notHeld = (leaseId: number, runnerId: string) =>
  new EdgeError("LEASE_NOT_HELD", `lease ${leaseId} is not held by runner ${runnerId}`);

/** True if `job` is held by this runner's lease right now. */
function holds(job: Job, runnerId: string, leaseId: number, now: number): boolean {
  return (
    job.state === "leased" &&
    job.leaseId === leaseId &&
    job.leaseRunnerId === runnerId &&
    (job.leaseExpiresAtMs ?? 0) >= now
  );
}

/** The job a runner's live lease holds; LEASE_NOT_HELD otherwise. */
export async function heldJob(ctx: LeaseContext, runnerId: string, leaseId: number): Promise<Job> {
  const job = await ctx.d1
    .prepare(`SELECT ${JOB_COLUMNS} FROM evaluation_batches WHERE lease_id = ?`)
    .bind(leaseId)
    .first<Job>();
  if (!job || !holds(job, runnerId, leaseId, ctx.now())) throw notHeld(leaseId, runnerId);
  return job;
}

/**
 * The job a lease's results are for: held by the lease now (`completed: false`), or completed
 * by this same lease already (`completed: true`: a repeated post). LEASE_NOT_HELD otherwise: the
 * lease expired, was returned or revoked, or is another runner's.
 */
export async function resultsJob(
  ctx: LeaseContext,
  runnerId: string,
  leaseId: number,
): Promise<{ readonly job: Job; readonly completed: boolean }> {
  const job = await ctx.d1
    .prepare(
      `SELECT b.id, b.window, b.kind, b.state, b.lease_id AS leaseId, b.lease_runner_id AS leaseRunnerId,
         b.lease_expires_at_ms AS leaseExpiresAtMs
       FROM evaluation_leases l JOIN evaluation_batches b ON b.id = l.batch_id WHERE l.id = ? AND l.runner_id = ?`,
    )
    .bind(leaseId, runnerId)
    .first<Job>();
  if (!job) throw new EdgeError("LEASE_NOT_HELD", `runner ${runnerId} holds no lease ${leaseId}`);
  if (job.state === "done" && job.leaseId === leaseId) return { job, completed: true };
  if (!holds(job, runnerId, leaseId, ctx.now()))
    throw new EdgeError(
      "LEASE_NOT_HELD",
      `lease ${leaseId} no longer holds batch ${job.id}: its results are not recorded`,
    );
  return { job, completed: false };
}

/**
 * Completes a held job and commits the rows its results imply in the same transaction. The
 * completion goes first and fails the transaction unless the lease still holds the job, so
 * nothing is written for a lease that lost it meanwhile (LEASE_NOT_HELD). Returns the implied
 * statements' results.
 */
export async function completeJob(
  ctx: LeaseContext,
  job: Job,
  leaseId: number,
  implied: readonly D1PreparedStatement[],
): Promise<D1Result[]> {
  const now = ctx.now();
  try {
    const results = await ctx.d1.batch([
      // A lease that no longer holds the job sets state to NULL: a NOT NULL failure rolls everything back.
      ctx.d1
        .prepare(
          `UPDATE evaluation_batches SET state = CASE WHEN lease_id = ? AND state = 'leased' THEN 'done' END,
             completed_at_ms = ? WHERE id = ?`,
        )
        .bind(leaseId, now, job.id),
      ...implied,
      ctx.d1
        .prepare("UPDATE evaluation_leases SET outcome = 'completed', ended_at_ms = ? WHERE id = ?")
        .bind(now, leaseId),
    ]);
    return results.slice(1, -1);
  } catch (e) {
    const v = constraintViolation(e);
    if (v?.kind === "NOT NULL" && v.target === "evaluation_batches.state")
      throw new EdgeError("LEASE_NOT_HELD", `lease ${leaseId} lost batch ${job.id} before its results were recorded`);
    throw e;
  }
}

/** Records a heartbeat of a held lease: it now expires `leaseLifeMs` from this beat; returns the new expiry. */
export async function renewLease(ctx: LeaseContext, runnerId: string, leaseId: number): Promise<number> {
  const job = await heldJob(ctx, runnerId, leaseId);
  const now = ctx.now();
  const expiresAtMs = now + leaseLifeMs(ctx.config.hparams.evaluation);
  const [renewed] = await ctx.d1.batch([
    ctx.d1
      .prepare(
        "UPDATE evaluation_batches SET lease_expires_at_ms = ? WHERE id = ? AND lease_id = ? AND state = 'leased'",
      )
      .bind(expiresAtMs, job.id, leaseId),
    ctx.d1
      .prepare("UPDATE evaluation_leases SET expires_at_ms = ?, last_heartbeat_at_ms = ? WHERE id = ?")
      .bind(expiresAtMs, now, leaseId),
    ctx.d1.prepare("UPDATE runners SET last_heartbeat_at_ms = ? WHERE id = ?").bind(now, runnerId),
  ]);
  if (!renewed?.meta.changes) throw new EdgeError("LEASE_NOT_HELD", `lease ${leaseId} ended while being renewed`);
  return expiresAtMs;
}

/**
 * Gives a lease back. Without an error (a graceful shutdown) the job is simply pending again;
 * with one (the runner could not do the work) it counts as a failed attempt.
 */
export async function releaseLease(
  ctx: LeaseContext,
  runnerId: string,
  leaseId: number,
  error?: { readonly code: ErrorCode; readonly message: string },
): Promise<void> {
  const job = await heldJob(ctx, runnerId, leaseId);
  const now = ctx.now();
  const putBack = error
    ? ctx.d1
        .prepare(
          `UPDATE evaluation_batches SET
             state = CASE WHEN attempts + 1 >= ? THEN 'parked' ELSE 'pending' END, attempts = attempts + 1,
             lease_id = NULL, lease_runner_id = NULL, lease_expires_at_ms = NULL, last_error_code = ?, last_error_message = ?
           WHERE id = ? AND lease_id = ? AND state = 'leased'`,
        )
        .bind(ctx.config.hparams.evaluation.max_attempts, error.code, error.message, job.id, leaseId)
    : ctx.d1
        .prepare(
          `UPDATE evaluation_batches SET state = 'pending', lease_id = NULL, lease_runner_id = NULL, lease_expires_at_ms = NULL
           WHERE id = ? AND lease_id = ? AND state = 'leased'`,
        )
        .bind(job.id, leaseId);
  await ctx.d1.batch([
    putBack,
    ctx.d1
      .prepare("UPDATE evaluation_leases SET outcome = ?, ended_at_ms = ? WHERE id = ?")
      .bind(error ? "failed" : "returned", now, leaseId),
  ]);
  log.info("lease.released", {
    window: job.window,
    batch_id: job.id,
    lease_id: leaseId,
    runner_id: runnerId,
    outcome: error ? "failed" : "returned",
    ...(error ? { code: error.code, msg: error.message } : {}),
  });
}
