/**
 * A window's outer step on a runner (docs/SPEC.md, "The outer step"): download θ_S and the peers'
 * gradients, aggregate them (lower-median norm clip, scatter-mean: schema/codec/aggregate.ts),
 * θ_{S+1} = θ_S − outer_lr · aggregate, measure the held-out loss of both, upload θ_{S+1} and the
 * aggregate, and report. The Worker chose the peers from their evaluations: every one is applied.
 */
import { createHash } from "node:crypto";
import type { AdvanceOrder, AdvanceResult } from "../schema/api/runner.ts";
import { aggregateGradients } from "../schema/codec/aggregate.ts";
import type { ParamLayout } from "../schema/codec/chunking.ts";
import type { CompressedParam } from "../schema/codec/gradient-format.ts";
import { readGradientFile } from "../schema/codec/read.ts";
import { EdgeError } from "../schema/errors.ts";
import type { Hparams } from "../schema/hparams.ts";
import { AGGREGATE_FORMAT, readCheckpoint, writeCheckpoint } from "../schema/model/checkpoint.ts";
import type { ModelManifest } from "../schema/model/manifest.ts";
import type { DatasetReader, SampleReader } from "./dataset-reader.ts";
import type { EvalSession } from "./model/family-sessions.ts";
import type { ValidatorApi } from "./validator-api.ts";

export interface OuterStepTools {
  readonly api: ValidatorApi;
  readonly hparams: Hparams;
  readonly manifest: ModelManifest;
  /** A loss session whose batch divides the held-out sample count. */
  readonly session: EvalSession;
  readonly data: DatasetReader;
}

/** Mean loss (nats) of `params` over held-out samples `ids`, one session batch at a time. */
export async function heldoutLoss(
  tools: { readonly session: EvalSession; readonly data: SampleReader },
  params: Float32Array,
  ids: readonly number[],
): Promise<number> {
  const batch = tools.session.batch;
  if (ids.length === 0 || ids.length % batch !== 0)
    throw new EdgeError("CONFIG_INVALID", `${ids.length} held-out samples are not a multiple of the batch ${batch}`);
  let sum = 0;
  for (let i = 0; i < ids.length; i += batch) {
    sum += await tools.session.loss(params, await tools.data.samples("heldout", ids.slice(i, i + batch)));
  }
  return sum / (ids.length / batch);
}

/** The peers' compressed gradients that go into the aggregate, and the uids they belong to. */
async function peerGradients(tools: OuterStepTools, order: AdvanceOrder) {
  const applied: { uid: number; params: CompressedParam[] }[] = [];
  let layouts: ParamLayout[] = [];
  for (const peer of order.peers) {
    const { bytes } = await tools.api.download(peer.gradient_url);
    if (createHash("sha256").update(bytes).digest("hex") !== peer.sha256)
      throw new Error(`gradient of uid ${peer.uid}: SHA-256 differs from the submission's`);
    const file = readGradientFile(bytes, {
      manifest: tools.manifest,
      hparams: tools.hparams,
      expect: { netuid: order.netuid, window: order.lease.window, uid: peer.uid, hotkey: peer.hotkey },
    });
    layouts = file.layouts;
    applied.push({ uid: peer.uid, params: file.params });
  }
  return { applied, layouts };
}

/** The outer step itself: the peers' aggregate, and θ_{S+1} = θ_S − outer_lr · aggregate. */
export function applyOuterStep(
  theta: Float32Array,
  peers: readonly (readonly CompressedParam[])[],
  layouts: readonly ParamLayout[],
  useDct: boolean,
  outerLr: number,
): { readonly aggregate: Float32Array; readonly next: Float32Array } {
  const aggregate = aggregateGradients(peers, layouts, useDct);
  const next = new Float32Array(theta.length);
  for (let i = 0; i < theta.length; i++) next[i] = (theta[i] as number) - outerLr * (aggregate[i] as number);
  return { aggregate, next };
}

/** Runs an advance order to the point of posting: uploads θ_{S+1} and the aggregate, returns the result. */
export async function runOuterStep(tools: OuterStepTools, order: AdvanceOrder): Promise<AdvanceResult> {
  const t0 = performance.now();
  const { bytes } = await tools.api.download(order.checkpoint.url);
  const theta = readCheckpoint(bytes, tools.manifest).params;
  const lossBefore = await heldoutLoss(tools, theta, order.heldout);
  const { applied, layouts } = await peerGradients(tools, order);
  if (applied.length === 0) {
    return {
      applied_uids: [],
      heldout_loss_before: lossBefore,
      heldout_loss_after: lossBefore,
      checkpoint_sha256: null,
      aggregate_sha256: null,
      total_ms: performance.now() - t0,
    };
  }
  const { aggregate, next } = applyOuterStep(
    theta,
    applied.map((a) => a.params),
    layouts,
    tools.hparams.compression.use_dct,
    order.outer_lr,
  );
  const lossAfter = await heldoutLoss(tools, next, order.heldout);
  if (!Number.isFinite(lossAfter))
    throw new EdgeError("EVAL_NON_FINITE", `held-out loss of θ_${order.next_window} is ${lossAfter}`);

  const meta = {
    model: tools.manifest.model,
    window: order.next_window,
    global_step: order.checkpoint.global_step + 1,
  };
  const checkpoint = writeCheckpoint(next, tools.manifest, meta);
  const aggregateFile = writeCheckpoint(
    aggregate,
    tools.manifest,
    { ...meta, window: order.lease.window },
    AGGREGATE_FORMAT,
  );
  const [checkpointSha, aggregateSha] = await Promise.all([
    tools.api.putArtifact(order.lease.id, "checkpoint", checkpoint),
    tools.api.putArtifact(order.lease.id, "aggregate", aggregateFile),
  ]);
  return {
    applied_uids: applied.map((a) => a.uid),
    heldout_loss_before: lossBefore,
    heldout_loss_after: lossAfter,
    checkpoint_sha256: checkpointSha,
    aggregate_sha256: aggregateSha,
    total_ms: performance.now() - t0,
  };
}
