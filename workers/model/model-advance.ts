/**
 * The outer step of window S, run by a gpu-runner: when S is evaluated its peers are chosen (by
 * the evaluations and the ratings) and an "advance" job is queued (leased before any evaluation
 * batch: miners wait for θ_{S+1}); the runner uploads θ_{S+1} and the dense aggregate, then posts
 * what it measured, and θ_{S+1} is published as the checkpoint of window S+1. Without peers
 * θ_{S+1} = θ_S, still published (with its measured held-out loss), so miners always learn what
 * to train from.
 */
import { and, eq, gt, inArray } from "drizzle-orm";
import type { AdvanceOrder } from "../../schema/api/runner.ts";
import { type AdvanceResult, advanceResultBody } from "../../schema/api/runner-requests.ts";
import { bitsPerByte } from "../../schema/data/dataset.ts";
import { evaluations, modelAdvances, submissions, uidStates, windowScores } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import { AGGREGATE_FORMAT, CHECKPOINT_FORMAT, readCheckpointHeader } from "../../schema/model/checkpoint.ts";
import { aggregateKey, checkpointKey } from "../../schema/model/keys.ts";
import { heldoutSamples } from "../../schema/sampling/assignment.ts";
import { relativeImprovement } from "../../schema/scoring/gradient-score.ts";
import { choosePeers } from "../../schema/scoring/peer-list.ts";
import { loadDataManifest, loadModelManifest } from "../artifacts.ts";
import type { WorkerContext } from "../context.ts";
import { baseCheckpoint } from "../evaluation/work-order.ts";
import { parseRequest } from "../http/validate.ts";
import { completeJob, heldJob, type Lease, resultsJob } from "../leases/job-leases.ts";
import { log } from "../logging/log.ts";

/** The artifacts an advance lease uploads before posting its result. */
export const ADVANCE_ARTIFACTS = { checkpoint: CHECKPOINT_FORMAT, aggregate: AGGREGATE_FORMAT } as const;
export type AdvanceArtifact = keyof typeof ADVANCE_ARTIFACTS;

/**
 * Statements that queue window S's outer step, for the transaction that completes S's evaluation
 * (or skips it): the job, then its peer list (schema/scoring/peer-list.ts), chosen from S's
 * evaluations and the uid states before S is scored. A window whose outer step is already queued
 * (its evaluation re-run by an operator) gets no second one.
 */
export async function queueAdvance(ctx: WorkerContext, window: number): Promise<D1PreparedStatement[]> {
  const [candidates, states, rated] = await Promise.all([
    ctx.db
      .select({
        uid: submissions.uid,
        submissionId: submissions.id,
        evaluated: evaluations.submissionId,
        errorCode: evaluations.errorCode,
        lossBeforeRandom: evaluations.lossBeforeRandom,
        lossAfterRandom: evaluations.lossAfterRandom,
      })
      .from(submissions)
      .leftJoin(evaluations, eq(evaluations.submissionId, submissions.id))
      .where(and(eq(submissions.window, window), eq(submissions.status, "valid")))
      .orderBy(submissions.uid),
    ctx.db.select().from(uidStates),
    ctx.db.select({ uid: windowScores.uid }).from(windowScores).where(gt(windowScores.finalScore, 0)).limit(1).get(),
  ]);
  const list = choosePeers(
    candidates.map((c) => {
      const ok =
        c.evaluated !== null &&
        c.errorCode === null &&
        Number.isFinite(c.lossBeforeRandom) &&
        Number.isFinite(c.lossAfterRandom);
      return {
        uid: c.uid,
        submissionId: c.submissionId,
        evaluated: ok,
        gradientScore: ok ? relativeImprovement(c.lossBeforeRandom as number, c.lossAfterRandom as number) : null,
      };
    }),
    new Map(states.map((s) => [s.uid, s.finalScore])),
    new Set(states.filter((s) => s.banWindowsLeft > 0).map((s) => s.uid)),
    rated !== undefined,
    ctx.config.hparams.weights,
  );
  const now = ctx.now();
  return [
    ctx.d1
      .prepare(
        `INSERT INTO evaluation_batches (window, kind, state, attempts, created_at_ms)
         SELECT ?1, 'advance', 'pending', 0, ?2
         WHERE NOT EXISTS (SELECT 1 FROM evaluation_batches WHERE window = ?1 AND kind = 'advance')`,
      )
      .bind(window, now),
    ctx.d1
      .prepare(
        `INSERT INTO model_advances (window, batch_id, peer_mode, peers, skipped, outer_learning_rate, created_at_ms)
         VALUES (?, (SELECT max(id) FROM evaluation_batches), ?, ?, ?, ?, ?) ON CONFLICT (window) DO NOTHING`,
      )
      .bind(
        window,
        list.mode,
        JSON.stringify(list.peers),
        JSON.stringify(list.skipped),
        ctx.config.hparams.training.outer_learning_rate,
        now,
      ),
  ];
}

/** The work order of a leased advance job. */
export async function advanceOrder(ctx: WorkerContext, lease: Lease): Promise<AdvanceOrder> {
  const advance = await ctx.db.select().from(modelAdvances).where(eq(modelAdvances.window, lease.window)).get();
  if (!advance) throw new EdgeError("NOT_FOUND", `no outer step is queued for window ${lease.window}`);
  const [base, data] = await Promise.all([baseCheckpoint(ctx, lease.window), loadDataManifest(ctx.artifacts)]);
  const rows = advance.peers.length
    ? await ctx.db
        .select({ id: submissions.id, sha256: submissions.sha256, hotkey: submissions.hotkey })
        .from(submissions)
        .where(
          inArray(
            submissions.id,
            advance.peers.map((p) => p.submissionId),
          ),
        )
    : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return {
    kind: "advance",
    lease: { id: lease.id, batch_id: lease.jobId, window: lease.window, expires_at_ms: lease.expiresAtMs },
    netuid: ctx.config.netuid,
    checkpoint: { window: base.window, url: `/v1/checkpoints/${lease.window}`, global_step: base.globalStep },
    next_window: lease.window + 1,
    outer_lr: advance.outerLearningRate,
    peer_mode: advance.peerMode,
    peers: advance.peers.map((p) => ({
      submission_id: p.submissionId,
      uid: p.uid,
      hotkey: byId.get(p.submissionId)?.hotkey as string,
      sha256: byId.get(p.submissionId)?.sha256 as string,
      gradient_url: `/v1/gradients/${lease.window}/${p.uid}`,
    })),
    heldout: heldoutSamples(data.splits.heldout.samples, ctx.config.hparams.evaluation.heldout_samples),
  };
}

function artifactKey(name: AdvanceArtifact, window: number): string {
  return name === "checkpoint" ? checkpointKey(window + 1) : aggregateKey(window);
}

/**
 * Stores θ_{S+1} or the aggregate uploaded by the lease holding window S's outer step: the file
 * must fit the model manifest and its signed SHA-256 (R2 verifies it).
 */
export async function storeAdvanceArtifact(
  ctx: WorkerContext,
  runnerId: string,
  leaseId: number,
  name: AdvanceArtifact,
  sha256: string,
  body: ArrayBuffer,
): Promise<{ key: string; size_bytes: number }> {
  const batch = await heldJob(ctx, runnerId, leaseId);
  if (batch.kind !== "advance") throw new EdgeError("BAD_REQUEST", `lease ${leaseId} is not an outer step`);
  const bytes = new Uint8Array(body);
  const manifest = await loadModelManifest(ctx.artifacts);
  try {
    const headerLength = Number(new DataView(body, 0, Math.min(8, body.byteLength)).getBigUint64(0, true));
    readCheckpointHeader(bytes.subarray(8, 8 + headerLength), manifest, bytes.length, ADVANCE_ARTIFACTS[name]);
  } catch (e) {
    throw new EdgeError("BAD_REQUEST", `the ${name} does not fit the model: ${(e as Error).message}`);
  }
  const key = artifactKey(name, batch.window);
  try {
    await ctx.artifacts.put(key, bytes, { sha256, customMetadata: { lease: String(leaseId) } });
  } catch (e) {
    throw new EdgeError("SHA256_MISMATCH", `the ${name}'s bytes do not have SHA-256 ${sha256}`, undefined, {
      cause: e,
    });
  }
  return { key, size_bytes: bytes.length };
}

const hex = (buf: ArrayBuffer | undefined) =>
  buf ? Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("") : "";

/** The size of an artifact this lease uploaded with this SHA-256; BAD_REQUEST if it did not. */
async function uploadedSize(
  ctx: WorkerContext,
  name: AdvanceArtifact,
  window: number,
  leaseId: number,
  sha256: string,
): Promise<number> {
  const head = await ctx.artifacts.head(artifactKey(name, window));
  if (!head || head.customMetadata?.lease !== String(leaseId) || hex(head.checksums.sha256) !== sha256)
    throw new EdgeError(
      "BAD_REQUEST",
      `upload the ${name} (SHA-256 ${sha256}) with this lease before posting the result`,
    );
  return head.size;
}

/** Parses an advance result (schema/api/runner-requests.ts) and checks it against the job's peers; BAD_REQUEST otherwise. */
export function checkAdvanceResult(body: unknown, peerUids: readonly number[]): AdvanceResult {
  const r = parseRequest(advanceResultBody, body);
  if (!r.applied_uids.every((u) => peerUids.includes(u)))
    throw new EdgeError("BAD_REQUEST", `applied_uids must be a list of the job's peers (${peerUids.join(", ")})`);
  return r;
}

/** θ_S with its SHA-256 and size (hashed from R2 for the initial parameters, which have no row yet). */
async function measuredBase(ctx: WorkerContext, window: number) {
  const base = await baseCheckpoint(ctx, window);
  if (base.sha256 !== null && base.size !== null) return { ...base, sha256: base.sha256, size: base.size };
  const object = await ctx.artifacts.get(base.key);
  if (!object) throw new EdgeError("CHECKPOINT_INVALID", `checkpoint ${base.key} is not in the artifacts bucket`);
  const digest = await crypto.subtle.digest("SHA-256", await object.arrayBuffer());
  return { ...base, sha256: hex(digest), size: object.size };
}

/**
 * Records an advance lease's result once: θ_{S+1} becomes the checkpoint of window S+1 (θ_S
 * carried over when no peer was applied), with its held-out loss in bits per byte; θ_S gets its
 * own if it had none. A repeated post is `duplicate`; one from a lease that no longer holds the
 * job is LEASE_NOT_HELD and changes nothing.
 */
export async function recordAdvance(
  ctx: WorkerContext,
  runnerId: string,
  leaseId: number,
  body: unknown,
): Promise<{ window: number; duplicate: boolean }> {
  const { job: batch, completed } = await resultsJob(ctx, runnerId, leaseId);
  if (completed) return { window: batch.window + 1, duplicate: true };
  const advance = await ctx.db.select().from(modelAdvances).where(eq(modelAdvances.window, batch.window)).get();
  if (!advance) throw new EdgeError("NOT_FOUND", `no outer step is queued for window ${batch.window}`);
  const r = checkAdvanceResult(
    body,
    advance.peers.map((p) => p.uid),
  );
  const base = await measuredBase(ctx, batch.window);
  const heldout = (await loadDataManifest(ctx.artifacts)).splits.heldout;
  const bpbBefore = bitsPerByte(r.heldout_loss_before, heldout);
  const bpbAfter = bitsPerByte(r.heldout_loss_after, heldout);
  const next = batch.window + 1;
  let checkpoint = { ...base, from: null as number | null };
  if (r.applied_uids.length > 0) {
    const [size] = await Promise.all([
      uploadedSize(ctx, "checkpoint", batch.window, leaseId, r.checkpoint_sha256 as string),
      uploadedSize(ctx, "aggregate", batch.window, leaseId, r.aggregate_sha256 as string),
    ]);
    checkpoint = {
      window: next,
      key: checkpointKey(next),
      sha256: r.checkpoint_sha256 as string,
      size,
      globalStep: base.globalStep + 1,
      from: batch.window,
    };
  }
  const now = ctx.now();
  await completeJob(ctx, batch, leaseId, [
    ctx.d1
      .prepare(
        `UPDATE model_advances SET applied_uids = ?, heldout_bpb_before = ?, heldout_bpb_after = ?, aggregate_key = ?,
           aggregate_sha256 = ?, completed_at_ms = ?
         WHERE window = ?`,
      )
      .bind(
        JSON.stringify(r.applied_uids),
        bpbBefore,
        bpbAfter,
        r.applied_uids.length ? aggregateKey(batch.window) : null,
        r.aggregate_sha256,
        now,
        batch.window,
      ),
    // θ_S: the initial parameters get a row of their own (window 0) the first time they are measured.
    ctx.d1
      .prepare(
        `INSERT INTO checkpoints (window, object_key, sha256, size_bytes, global_step, held_out_bpb, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (window) DO UPDATE SET held_out_bpb = coalesce(checkpoints.held_out_bpb, excluded.held_out_bpb)`,
      )
      .bind(base.window, base.key, base.sha256, base.size, base.globalStep, bpbBefore, now),
    ctx.d1
      .prepare(
        `INSERT INTO checkpoints (window, object_key, sha256, size_bytes, global_step, held_out_bpb, advanced_from, created_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (window) DO NOTHING`,
      )
      .bind(
        next,
        checkpoint.key,
        checkpoint.sha256,
        checkpoint.size,
        checkpoint.globalStep,
        bpbAfter,
        checkpoint.from,
        now,
      ),
  ]);
  log.info("outer_step.recorded", {
    window: batch.window,
    batch_id: batch.id,
    lease_id: leaseId,
    runner_id: runnerId,
    applied_uids: r.applied_uids.length,
    heldout_bpb_before: bpbBefore,
    heldout_bpb_after: bpbAfter,
    checkpoint_window: checkpoint.window,
  });
  return { window: next, duplicate: false };
}
