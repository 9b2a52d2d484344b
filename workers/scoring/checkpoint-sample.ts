/**
 * θ_S at the param_sample positions, for the sync check. Read from the base checkpoint in R2 with
 * ranged reads (a few bytes per parameter, never the whole file) the first time a window needs
 * it, then kept in D1 with the EMA of how far each position moved per checkpoint.
 */
import { desc, eq, lt } from "drizzle-orm";
import { checkpointSamples, checkpoints } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { SyncHparams } from "../../schema/hparams.ts";
import {
  checkpointElementBytes,
  checkpointHeaderLength,
  decodeValues,
  readCheckpointHeader,
} from "../../schema/model/checkpoint.ts";
import { type ModelManifest, parameterSlots } from "../../schema/model/manifest.ts";
import type { ThetaSample } from "../../schema/scoring/score-window.ts";
import { nextStepEma } from "../../schema/scoring/sync-score.ts";
import { loadModelManifest } from "../artifacts.ts";
import type { WorkerContext } from "../context.ts";
import { baseCheckpoint } from "../evaluation/work-order.ts";

async function readRange(bucket: R2Bucket, key: string, offset: number, length: number): Promise<Uint8Array> {
  const object = await bucket.get(key, { range: { offset, length } });
  if (!object) throw new EdgeError("CHECKPOINT_INVALID", `checkpoint ${key} is not in the artifacts bucket`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  if (bytes.length !== length) throw new EdgeError("CHECKPOINT_INVALID", `checkpoint ${key} ends early`);
  return bytes;
}

/** The param_sample positions of a checkpoint object, read with ranged gets. */
export async function readCheckpointSample(
  bucket: R2Bucket,
  key: string,
  manifest: ModelManifest,
  sync: SyncHparams,
): Promise<Record<string, number[]>> {
  const head = await bucket.head(key);
  if (!head) throw new EdgeError("CHECKPOINT_INVALID", `checkpoint ${key} is not in the artifacts bucket`);
  const n = checkpointHeaderLength(await readRange(bucket, key, 0, 8));
  const { layout, dtype } = readCheckpointHeader(await readRange(bucket, key, 8, n), manifest, head.size);
  const width = checkpointElementBytes(dtype);
  const wanted = parameterSlots(manifest).slots.filter(
    (s) => s.numel >= sync.param_sample_offset + sync.param_sample_size,
  );
  const values = await Promise.all(
    wanted.map(async ({ spec }) => {
      const begin = (layout.get(spec.name) as readonly [number, number])[0] + width * sync.param_sample_offset;
      const values = new Float32Array(sync.param_sample_size);
      decodeValues(dtype, await readRange(bucket, key, begin, width * sync.param_sample_size), values.length, values);
      return Array.from(values);
    }),
  );
  return Object.fromEntries(wanted.map(({ spec }, i) => [spec.name, values[i] as number[]]));
}

/** θ_S's sample and step sizes for window S's base checkpoint (computed once per checkpoint). */
export async function thetaSample(ctx: WorkerContext, window: number): Promise<ThetaSample> {
  const base = await baseCheckpoint(ctx, window);
  const cached = await ctx.db.select().from(checkpointSamples).where(eq(checkpointSamples.window, base.window)).get();
  if (cached) return { sample: cached.sample, stepEma: cached.stepEma };

  const { sync } = ctx.config.hparams;
  const sample = await readCheckpointSample(ctx.artifacts, base.key, await loadModelManifest(ctx.artifacts), sync);
  let stepEma: Record<string, number[]> | null = null;
  let previousWindow: number | null = null;
  if (base.window > 0) {
    // The checkpoint before: the latest published one below, else the initial one.
    const prior = await ctx.db
      .select({ window: checkpoints.window })
      .from(checkpoints)
      .where(lt(checkpoints.window, base.window))
      .orderBy(desc(checkpoints.window))
      .limit(1)
      .get();
    previousWindow = prior?.window ?? 0;
    const previous = await thetaSample(ctx, previousWindow);
    const carried = await ctx.db
      .select({ key: checkpointSamples.objectKey })
      .from(checkpointSamples)
      .where(eq(checkpointSamples.window, previousWindow))
      .get();
    // θ carried over unchanged (an outer step without peers) is no step: the EMA stays as it was.
    stepEma =
      carried?.key === base.key
        ? (previous.stepEma as Record<string, number[]> | null)
        : nextStepEma(previous.stepEma, previous.sample, sample, sync.step_ema_alpha);
  }
  await ctx.db
    .insert(checkpointSamples)
    .values({
      window: base.window,
      objectKey: base.key,
      sample,
      stepEma,
      previousWindow,
      createdAtMs: ctx.now(),
    })
    .onConflictDoNothing();
  return { sample, stepEma };
}
