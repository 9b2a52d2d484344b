/**
 * The kinds of runner job and what each is to the runner API: the work order a lease on it
 * hands out, and how its results are recorded. Leasing itself knows no kinds
 * (leases/job-leases.ts); this is where they meet.
 */
import type { LeaseOrder } from "../../schema/api/runner.ts";
import type { BatchKind } from "../../schema/db/index.ts";
import type { WorkerContext } from "../context.ts";
import { recordResults } from "../evaluation/results.ts";
import { workOrder } from "../evaluation/work-order.ts";
import { type Lease, leaseJob, resultsJob } from "../leases/job-leases.ts";
import { advanceOrder, recordAdvance } from "../model/model-advance.ts";

interface JobKind {
  readonly order: (ctx: WorkerContext, lease: Lease) => Promise<LeaseOrder>;
  readonly record: (ctx: WorkerContext, runnerId: string, leaseId: number, body: unknown) => Promise<object>;
}

const JOB_KINDS: Record<BatchKind, JobKind> = {
  advance: { order: advanceOrder, record: recordAdvance },
  evaluate: { order: workOrder, record: recordResults },
};

/** Outer steps first: every miner waits for θ_{S+1}, and the next window's evaluation for its θ. */
const LEASE_ORDER: readonly BatchKind[] = ["advance", "evaluate"];

function kindOf(kind: string): JobKind {
  const known = JOB_KINDS[kind as BatchKind];
  if (!known) throw new Error(`a job of unknown kind ${JSON.stringify(kind)}`);
  return known;
}

/** Leases the next job to a runner and returns its work order, or null when there is no work. */
export async function leaseWork(ctx: WorkerContext, runnerId: string): Promise<LeaseOrder | null> {
  const lease = await leaseJob(ctx, runnerId, LEASE_ORDER);
  return lease && kindOf(lease.kind).order(ctx, lease);
}

/** Records the results a runner posts for a lease, by the kind of its job. */
export async function recordJobResults(
  ctx: WorkerContext,
  runnerId: string,
  leaseId: number,
  body: unknown,
): Promise<object> {
  const { job } = await resultsJob(ctx, runnerId, leaseId);
  return kindOf(job.kind).record(ctx, runnerId, leaseId, body);
}
