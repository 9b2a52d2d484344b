/**
 * What a runner evaluates for a lease: the window's base checkpoint, the evaluation learning
 * rate, the "random" samples of the window and, per submission, its gradient and "own" samples
 * (docs/SPEC.md, "Data"). Everything is derived from D1, the dataset manifest and the window's
 * seed block hash, so anyone can recompute it.
 */
import { and, desc, eq, inArray, lte } from "drizzle-orm";
import type { WorkOrder } from "../../schema/api/runner.ts";
import { checkpoints, evaluationBatches, evaluationBatchItems, submissions, windows } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import { INITIAL_CHECKPOINT_KEY } from "../../schema/model/keys.ts";
import { minerPool, ownSamples, randomSamples } from "../../schema/sampling/assignment.ts";
import { loadDataManifest } from "../artifacts.ts";
import type { WorkerContext } from "../context.ts";
import type { Lease } from "../leases/job-leases.ts";

export interface BaseCheckpoint {
  readonly window: number;
  readonly key: string;
  readonly globalStep: number;
  /** Null for the initial parameters until their first measurement gives them a row. */
  readonly sha256: string | null;
  readonly size: number | null;
}

/** The checkpoint θ_S of a window: the latest published at or before S, else the initial one. */
export async function baseCheckpoint(ctx: WorkerContext, window: number): Promise<BaseCheckpoint> {
  const row = await ctx.db
    .select({
      window: checkpoints.window,
      key: checkpoints.objectKey,
      globalStep: checkpoints.globalStep,
      sha256: checkpoints.sha256,
      size: checkpoints.sizeBytes,
    })
    .from(checkpoints)
    .where(lte(checkpoints.window, window))
    .orderBy(desc(checkpoints.window))
    .limit(1)
    .get();
  return row ?? { window: 0, key: INITIAL_CHECKPOINT_KEY, globalStep: 0, sha256: null, size: null };
}

/** The samples of a window's evaluation: the random draw, and each uid's own draw. */
export async function windowDraws(ctx: WorkerContext, window: number) {
  const win = await ctx.db
    .select({ seed: windows.seedBlockHash })
    .from(windows)
    .where(eq(windows.window, window))
    .get();
  if (!win?.seed) throw new EdgeError("CONFIG_INVALID", `window ${window} has no seed block yet`);
  const seed = win.seed;
  const data = await loadDataManifest(ctx.artifacts);
  const { hparams } = ctx.config;
  const trainSamples = data.splits.train.samples;
  const poolSize = hparams.training.inner_steps * hparams.training.batch_size;
  return {
    random: randomSamples(seed, trainSamples, hparams.evaluation.random_samples),
    own: (uid: number) =>
      ownSamples(seed, uid, minerPool(uid, window, trainSamples, poolSize), hparams.evaluation.own_samples),
  };
}

/** The work order of a leased batch. */
export async function workOrder(ctx: WorkerContext, lease: Lease): Promise<WorkOrder> {
  const items = await ctx.db
    .select({
      id: submissions.id,
      uid: submissions.uid,
      hotkey: submissions.hotkey,
      sha256: submissions.sha256,
      size: submissions.sizeBytes,
    })
    .from(evaluationBatchItems)
    .innerJoin(submissions, eq(submissions.id, evaluationBatchItems.submissionId))
    .where(inArray(evaluationBatchItems.batchId, [lease.jobId]))
    .orderBy(submissions.id);
  const draws = await windowDraws(ctx, lease.window);
  const base = await baseCheckpoint(ctx, lease.window);
  const reference = await ctx.db
    .select({ id: submissions.id, uid: submissions.uid, hotkey: submissions.hotkey, sha256: submissions.sha256 })
    .from(evaluationBatchItems)
    .innerJoin(evaluationBatches, eq(evaluationBatches.id, evaluationBatchItems.batchId))
    .innerJoin(submissions, eq(submissions.id, evaluationBatchItems.submissionId))
    .where(and(eq(evaluationBatches.window, lease.window), eq(evaluationBatches.kind, "evaluate")))
    .orderBy(submissions.id);
  const { hparams, netuid } = ctx.config;
  return {
    kind: "evaluate",
    lease: { id: lease.id, batch_id: lease.jobId, window: lease.window, expires_at_ms: lease.expiresAtMs },
    netuid,
    checkpoint: { window: base.window, url: `/v1/checkpoints/${lease.window}` },
    eval_lr: hparams.training.outer_learning_rate * hparams.evaluation.eval_lr_factor,
    random: draws.random,
    submissions: items.map((s) => ({
      submission_id: s.id,
      uid: s.uid,
      hotkey: s.hotkey,
      sha256: s.sha256,
      size_bytes: s.size,
      gradient_url: `/v1/gradients/${lease.window}/${s.uid}`,
      own: draws.own(s.uid),
    })),
    // Every batch of the window lists the same submissions: the window's dispatched ones.
    reference: reference.map((s) => ({
      submission_id: s.id,
      uid: s.uid,
      hotkey: s.hotkey,
      sha256: s.sha256,
      gradient_url: `/v1/gradients/${lease.window}/${s.uid}`,
    })),
  };
}
