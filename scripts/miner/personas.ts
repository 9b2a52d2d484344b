/**
 * Adversary personas of the reference miner (`--persona`), for exercising the validator's
 * defences on a local network: one function per persona, each deciding what file the miner
 * sends for a window and when. `honest` is the reference behaviour; every other one is a
 * cheat the validator must catch or score down:
 *
 * - free-rider: an all-zero gradient, in time (no training);
 * - noise: random values of an honest-looking scale (no training);
 * - late: an honest gradient sent after the put window closes (UPLOAD_TOO_LATE);
 * - wrong-data: honest training on samples not assigned to it (the own-vs-random indicator);
 * - replayer: honest in its first window, then its first upload's tensors again under each new
 *   window's metadata (an exact copy of an earlier window);
 * - copier: another miner's upload of the same window under its own metadata, sent after it:
 *   bit for bit on even windows, with slightly perturbed values (same top-k indices, another
 *   tensor hash) on odd ones;
 * - aggregate-replayer: the previous window's published aggregate (`GET /v1/aggregates/{S−1}`)
 *   as its own gradient (no training; it moves the model the way it already moved); nothing
 *   while there is none;
 * - random-delta: a dense random delta, uniform in ±(inner_lr · inner_steps), fresh each window;
 * - huge-values: a well-formed file whose values are finite but absurd (±3e38);
 * - lazy: honest, but one inner step instead of the profile's;
 * - small-batch: honest, but each inner step on 1/8 of the batch.
 *
 * lazy and small-batch do train on their own data, only less: the validator may pay them, but
 * less than a miner that does the whole work.
 */
import type { ParamLayout } from "../../schema/codec/chunking.ts";
import { packCodes } from "../../schema/codec/codes2bit.ts";
import { ChunkDecoder } from "../../schema/codec/decode.ts";
import { encodeGradient, sampleParams, writeGradientFile } from "../../schema/codec/encode.ts";
import type { FormatVersion } from "../../schema/codec/format-version.ts";
import type { CompressedParam, GradientIdentity } from "../../schema/codec/gradient-format.ts";
import { quantize } from "../../schema/codec/quantize.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { Hparams } from "../../schema/hparams.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import type { TrainedGradient } from "./trainer.ts";
import type { WorkDir } from "./work-dir.ts";

export const PERSONAS = [
  "honest",
  "free-rider",
  "noise",
  "late",
  "wrong-data",
  "replayer",
  "copier",
  "aggregate-replayer",
  "random-delta",
  "huge-values",
  "lazy",
  "small-batch",
] as const;
export type PersonaName = (typeof PERSONAS)[number];

/** The personas that train on the samples assigned to them: the only ones the validator should pay, the honest ones most. */
export const OWN_DATA_TRAINERS: readonly PersonaName[] = ["honest", "lazy", "small-batch"];

/** What a persona may use to produce its window's upload. */
export interface PersonaContext {
  /** The upload's identity: netuid, window, uid, hotkey, base_window. */
  readonly identity: GradientIdentity;
  /** θ_base, the checkpoint trained from (also the source of param_sample). */
  readonly theta: Float32Array;
  readonly hparams: Hparams;
  readonly manifest: ModelManifest;
  readonly layouts: readonly ParamLayout[];
  /** The gradient format this miner writes. */
  readonly formatVersion: FormatVersion;
  /** The miner's own pool for this window. */
  readonly pool: readonly number[];
  /** The pool another uid would have in this window. */
  poolOf(uid: number): number[];
  /** Honest training (inner steps, error feedback, compression) on `pool`, `batchSize` samples a step (the profile's by default). */
  train(pool: readonly number[], batchSize?: number): Promise<TrainedGradient>;
  /** The dense aggregate the validator published for the window before, if there is one. */
  previousAggregate(): Promise<Float32Array | undefined>;
  /** This miner's work dir (its earlier uploads). */
  readonly workDir: WorkDir;
  /** The victim's work dir, for the copier. */
  readonly copyFrom?: WorkDir;
  /** Polls `check` until it gives a value; gives up (throws) once the put window has closed. */
  until<T>(what: string, check: () => T | undefined): Promise<T>;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/** A persona's upload for the window. */
export interface PersonaUpload {
  /** Null: nothing to send this window. */
  readonly file: Uint8Array | null;
  /** The inner steps' losses; empty when the persona did not train. */
  readonly losses: readonly number[];
  /** In the put window (everyone but `late`), or once it has closed. */
  readonly send: "in-put-window" | "after-put-window";
  /** A few words for the window's line (what was copied, replayed, …). */
  readonly note?: string;
}

export type Persona = (ctx: PersonaContext) => Promise<PersonaUpload>;

/** Trains on its own pool and sends in time: the reference miner. */
export async function honest(ctx: PersonaContext): Promise<PersonaUpload> {
  const trained = await ctx.train(ctx.pool);
  return { file: trained.file, losses: trained.losses, send: "in-put-window" };
}

/** Sends an all-zero gradient in time, without training. */
export async function freeRider(ctx: PersonaContext): Promise<PersonaUpload> {
  return { file: encodeDense(ctx, new Float32Array(ctx.theta.length)), losses: [], send: "in-put-window" };
}

/**
 * Sends Gaussian noise in time, without training, at about the scale of an honest pseudo-gradient:
 * AdamW moves a coordinate by at most about inner_lr per step, so inner_steps steps move it by
 * up to inner_lr·inner_steps; the noise's σ is half of that, times outer_lr.
 */
export async function noise(ctx: PersonaContext): Promise<PersonaUpload> {
  const t = ctx.hparams.training;
  const sigma = 0.5 * t.inner_learning_rate * t.inner_steps * t.outer_learning_rate;
  const dense = new Float32Array(ctx.theta.length);
  const gauss = gaussian(ctx.random);
  for (let i = 0; i < dense.length; i++) dense[i] = sigma * gauss();
  return { file: encodeDense(ctx, dense), losses: [], send: "in-put-window", note: `noise σ ${sigma.toPrecision(2)}` };
}

/** Trains honestly and sends after the put window has closed. */
export async function late(ctx: PersonaContext): Promise<PersonaUpload> {
  const trained = await ctx.train(ctx.pool);
  return { file: trained.file, losses: trained.losses, send: "after-put-window" };
}

/** The uid whose pool the wrong-data persona trains on: far above any local network's uids. */
export const WRONG_DATA_UID_OFFSET = 4096;

/** Trains honestly, but on another uid's pool, and sends in time. */
export async function wrongData(ctx: PersonaContext): Promise<PersonaUpload> {
  const other = ctx.identity.uid + WRONG_DATA_UID_OFFSET;
  const trained = await ctx.train(ctx.poolOf(other));
  return { file: trained.file, losses: trained.losses, send: "in-put-window", note: `trained on uid ${other}'s pool` };
}

/** Trains honestly in its first window; afterwards sends its first upload's tensors again. */
export async function replayer(ctx: PersonaContext): Promise<PersonaUpload> {
  const first = ctx.workDir.uploadedWindows().find((w) => w < ctx.identity.window);
  if (first === undefined) return honest(ctx);
  const file = reidentify(ctx, ctx.workDir.uploadedFile(first) as Uint8Array);
  return { file, losses: [], send: "in-put-window", note: `replay of window ${first}` };
}

/**
 * Waits until the victim has uploaded this window, then sends its tensors under its own
 * metadata: exactly on even windows, with value noise (same indices) on odd ones.
 */
export async function copier(ctx: PersonaContext): Promise<PersonaUpload> {
  const victim = ctx.copyFrom;
  if (!victim) throw new EdgeError("CONFIG_INVALID", "the copier needs --copy-from <the victim's work dir>");
  const { window } = ctx.identity;
  const marker = await ctx.until(`the upload of window ${window} in ${victim.dir}`, () => victim.marker(window));
  const bytes = victim.uploadedFile(window) as Uint8Array;
  if (window % 2 === 0) {
    return { file: reidentify(ctx, bytes), losses: [], send: "in-put-window", note: `exact copy of uid ${marker.uid}` };
  }
  const { params } = readGradientFile(bytes, { manifest: ctx.manifest, hparams: ctx.hparams });
  const gauss = gaussian(ctx.random);
  const noisy = params.map((p, i) => withValueNoise(p, ctx.layouts[i] as ParamLayout, ctx.hparams, gauss));
  return {
    file: writeGradientFile(noisy, ctx.layouts, metadataOf(ctx)),
    losses: [],
    send: "in-put-window",
    note: `noisy copy of uid ${marker.uid}`,
  };
}

/** Sends the aggregate of the window before as its own gradient; nothing while there is none. */
export async function aggregateReplayer(ctx: PersonaContext): Promise<PersonaUpload> {
  const aggregate = await ctx.previousAggregate();
  if (!aggregate) return { file: null, losses: [], send: "in-put-window", note: "no aggregate to replay yet" };
  const note = `aggregate of window ${ctx.identity.window - 1}`;
  return { file: encodeDense(ctx, aggregate), losses: [], send: "in-put-window", note };
}

/** Sends a dense delta uniform in ±(inner_lr · inner_steps · outer_lr), without training. */
export async function randomDelta(ctx: PersonaContext): Promise<PersonaUpload> {
  const t = ctx.hparams.training;
  const scale = t.inner_learning_rate * t.inner_steps * t.outer_learning_rate;
  const dense = new Float32Array(ctx.theta.length);
  for (let i = 0; i < dense.length; i++) dense[i] = scale * (2 * ctx.random() - 1);
  return { file: encodeDense(ctx, dense), losses: [], send: "in-put-window", note: `uniform ±${scale.toPrecision(2)}` };
}

/** The largest magnitude huge-values sends: finite in float32 (max ≈ 3.4e38), absurd as a step. */
export const HUGE_VALUE = 3e38;

/**
 * Sends a well-formed file whose every lookup value is ±3e38 (no shift), without training: each
 * value finite, the step absurd.
 */
export async function hugeValues(ctx: PersonaContext): Promise<PersonaUpload> {
  const dense = new Float32Array(ctx.theta.length);
  const gauss = gaussian(ctx.random);
  for (let i = 0; i < dense.length; i++) dense[i] = gauss();
  const { params } = encodeGradient({ ...denseRequest(ctx), gradient: dense });
  const huge = params.map((p) => ({
    ...p,
    lookup: Float32Array.from(p.lookup, (v) => (v < 0 ? -HUGE_VALUE : HUGE_VALUE)),
    shift: 0,
  }));
  return {
    file: writeGradientFile(huge, ctx.layouts, metadataOf(ctx)),
    losses: [],
    send: "in-put-window",
    note: `values ±${HUGE_VALUE}`,
  };
}

/** Trains honestly on its own pool, but one inner step (the pool's first batch) instead of the profile's. */
export async function lazy(ctx: PersonaContext): Promise<PersonaUpload> {
  const trained = await ctx.train(ctx.pool.slice(0, ctx.hparams.training.batch_size));
  return { file: trained.file, losses: trained.losses, send: "in-put-window", note: "1 inner step" };
}

/** How much smaller the small-batch persona's batch is than the profile's. */
export const SMALL_BATCH_DIVISOR = 8;

/** Trains honestly on its own pool, every inner step on 1/8 of the batch. */
export async function smallBatch(ctx: PersonaContext): Promise<PersonaUpload> {
  const batch = Math.max(1, Math.floor(ctx.hparams.training.batch_size / SMALL_BATCH_DIVISOR));
  const trained = await ctx.train(ctx.pool, batch);
  return { file: trained.file, losses: trained.losses, send: "in-put-window", note: `batches of ${batch}` };
}

/** Every persona by its `--persona` name. */
export const PERSONA_FUNCTIONS: Readonly<Record<PersonaName, Persona>> = {
  honest,
  "free-rider": freeRider,
  noise,
  late,
  "wrong-data": wrongData,
  replayer,
  copier,
  "aggregate-replayer": aggregateReplayer,
  "random-delta": randomDelta,
  "huge-values": hugeValues,
  lazy,
  "small-batch": smallBatch,
};

/** What encoding a dense gradient under this window's identity takes, but the gradient. */
function denseRequest(ctx: PersonaContext) {
  const { compression, sync } = ctx.hparams;
  return {
    identity: ctx.identity,
    parameters: ctx.theta,
    layouts: ctx.layouts,
    compression,
    sync,
    formatVersion: ctx.formatVersion,
  };
}

/** The file of a dense gradient (no error feedback) under this window's identity. */
function encodeDense(ctx: PersonaContext, dense: Float32Array): Uint8Array {
  return encodeGradient({ ...denseRequest(ctx), gradient: dense }).file;
}

/** This window's `__metadata__`, param_sample taken from θ_base as an honest miner's is. */
function metadataOf(ctx: PersonaContext) {
  return {
    ...ctx.identity,
    compression: ctx.hparams.compression,
    param_sample: sampleParams(ctx.theta, ctx.layouts, ctx.hparams.sync),
  };
}

/** Another file's tensors, unchanged, under this window's metadata. */
function reidentify(ctx: PersonaContext, bytes: Uint8Array): Uint8Array {
  const { params } = readGradientFile(bytes, { manifest: ctx.manifest, hparams: ctx.hparams });
  return writeGradientFile(params, ctx.layouts, metadataOf(ctx));
}

/**
 * One parameter with Gaussian noise of 5% of its values' spread added to each selected value and
 * the values quantized again: the index bytes stay as they are, the lookup (and so the tensor
 * hash) changes.
 */
function withValueNoise(
  param: CompressedParam,
  layout: ParamLayout,
  hparams: Pick<Hparams, "compression">,
  gauss: () => number,
): CompressedParam {
  const { chunks, k } = layout;
  const decoder = new ChunkDecoder(param, layout);
  const values = new Float32Array(chunks * k);
  for (let c = 0; c < chunks; c++) {
    decoder.read(c);
    values.set(decoder.val, c * k);
  }
  let mean = 0;
  for (const v of values) mean += v / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  // A constant parameter (a zero gradient) still gets noise: of its magnitude, or a tiny absolute one.
  const spread = Math.sqrt(sq / Math.max(1, values.length - 1)) || Math.abs(mean) || 1e-8;
  for (let i = 0; i < values.length; i++) values[i] += 0.05 * spread * gauss();
  const q = quantize(values, hparams.compression.quantization_bins, hparams.compression.quantization_range);
  return {
    name: param.name,
    formatVersion: param.formatVersion,
    idxs: param.idxs,
    codes: packCodes(q.codes, chunks, k),
    lookup: q.lookup,
    shift: q.shift,
  };
}

/** Standard normal draws from a uniform source (Box–Muller). */
function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
