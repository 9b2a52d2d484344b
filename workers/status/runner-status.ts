/**
 * The runners part of GET /v1/status: each runner's last signs of life, whether it is alive (seen
 * within a lease's life, `missed_heartbeats × heartbeat_seconds`: a live runner polls or beats
 * more often than that), and the leases it holds with their last heartbeat and expiry.
 */

import { leaseLifeMs } from "../../schema/hparams.ts";
import type { WorkerContext } from "../context.ts";

/** A lease a runner holds now. */
export interface ActiveLeaseStatus {
  readonly lease_id: number;
  readonly batch_id: number;
  readonly window: number;
  readonly kind: string;
  readonly leased_at_ms: number;
  /** Null until the runner's first beat for it. */
  readonly last_heartbeat_at_ms: number | null;
  readonly expires_at_ms: number;
}

export interface RunnerStatus {
  readonly id: string;
  readonly label: string | null;
  readonly device: string | null;
  readonly disabled: boolean;
  readonly last_heartbeat_at_ms: number | null;
  readonly last_leased_at_ms: number | null;
  /** The runner's last authenticated request: a lease poll, a heartbeat, a post, a download. */
  readonly last_seen_at_ms: number | null;
  /** Seen within `missed_heartbeats × heartbeat_seconds`. */
  readonly alive: boolean;
  readonly active_leases: readonly ActiveLeaseStatus[];
}

/** Every runner, by id, with its last lease and its active leases (a JSON array), in one statement of the status batch. */
export const RUNNERS_SQL = `SELECT r.id, r.label, r.device, r.disabled, r.last_heartbeat_at_ms, r.last_seen_at_ms,
    (SELECT max(leased_at_ms) FROM evaluation_leases l WHERE l.runner_id = r.id) AS last_leased_at_ms,
    (SELECT json_group_array(json_object('lease_id', a.id, 'batch_id', a.batch_id, 'window', a.window, 'kind', a.kind,
        'leased_at_ms', a.leased_at_ms, 'last_heartbeat_at_ms', a.last_heartbeat_at_ms, 'expires_at_ms', a.expires_at_ms))
      FROM (SELECT l.id, l.batch_id, b.window, b.kind, l.leased_at_ms, l.last_heartbeat_at_ms, l.expires_at_ms
            FROM evaluation_leases l JOIN evaluation_batches b ON b.id = l.batch_id
            WHERE l.runner_id = r.id AND l.outcome = 'active' ORDER BY l.id) a) AS active_leases
  FROM runners r ORDER BY r.id`;

/** A row of RUNNERS_SQL. */
export type RunnerRow = Omit<RunnerStatus, "disabled" | "alive" | "active_leases"> & {
  readonly disabled: number;
  readonly active_leases: string;
};

/** The runners' status from their rows, alive or not by the context's clock and hparams. */
export function runnerStatuses(rows: readonly RunnerRow[], ctx: Pick<WorkerContext, "now" | "config">): RunnerStatus[] {
  const aliveSince = ctx.now() - leaseLifeMs(ctx.config.hparams.evaluation);
  return rows.map((r) => ({
    id: r.id,
    label: r.label,
    device: r.device,
    disabled: Boolean(r.disabled),
    last_heartbeat_at_ms: r.last_heartbeat_at_ms,
    last_leased_at_ms: r.last_leased_at_ms,
    last_seen_at_ms: r.last_seen_at_ms,
    alive: r.last_seen_at_ms !== null && r.last_seen_at_ms >= aliveSince,
    active_leases: JSON.parse(r.active_leases) as ActiveLeaseStatus[],
  }));
}
