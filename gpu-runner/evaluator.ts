/**
 * Evaluation of one leased batch (docs/SPEC.md, "Evaluation"): θ_S loaded once per checkpoint;
 * per submission, decode the gradient with the codec, measure the loss on its own samples,
 * apply it at eval_lr, measure the loss on its own and on the random samples, and restore θ
 * exactly from the undo log. The loss on the random samples before any gradient is measured once
 * per window. A gradient that fails fails only its own evaluation, with a code.
 */
import { createHash } from "node:crypto";
import { applyGradient, UndoLog } from "../schema/codec/decode.ts";
import { readGradientFile } from "../schema/codec/read.ts";
import type { ValidationOptions } from "../schema/codec/validate.ts";
import { EdgeError } from "../schema/errors.ts";
import type { Hparams } from "../schema/hparams.ts";
import { readCheckpoint } from "../schema/model/checkpoint.ts";
import type { ModelManifest } from "../schema/model/manifest.ts";
import { DatasetReader } from "./dataset-reader.ts";
import type { Device } from "./model/loss-session.ts";
import { LossSession } from "./model/loss-session.ts";
import { transformerManifest } from "./model/transformer.ts";
import type { EvaluationResult, ValidatorApi, WorkOrder } from "./validator-api.ts";

/** Figures of one submission, as posted and as printed. */
export type Evaluation = EvaluationResult;

/** Thrown when evaluation stops between submissions on request. */
export class Interrupted extends Error {
  constructor() {
    super("interrupted");
    this.name = "Interrupted";
  }
}

export class Evaluator {
  readonly hparams: Hparams;
  readonly manifest: ModelManifest;
  readonly #api: ValidatorApi;
  /** The loss session (batch own_samples) and the dataset, shared with the outer step. */
  readonly session: LossSession;
  readonly data: DatasetReader;
  #theta: { etag: string; params: Float32Array } | undefined;
  readonly #randomBefore = new Map<string, MeasuredLosses>();

  private constructor(api: ValidatorApi, hparams: Hparams, manifest: ModelManifest, session: LossSession) {
    this.#api = api;
    this.hparams = hparams;
    this.manifest = manifest;
    this.session = session;
    this.data = new DatasetReader(api);
  }

  /** Reads the validator's hparams and model manifest and opens the loss session on `device`. */
  static async open(api: ValidatorApi, device: Device): Promise<Evaluator> {
    const hparams = await api.hparams();
    const manifest = await api.json<ModelManifest>("/v1/model/manifest");
    const expected = transformerManifest(hparams.model);
    if (JSON.stringify(manifest.parameters) !== JSON.stringify(expected.parameters)) {
      throw new EdgeError(
        "CONFIG_INVALID",
        `the validator's model ${manifest.model} is not the ${hparams.profile} profile's ${expected.model}`,
      );
    }
    if (hparams.evaluation.own_samples !== hparams.evaluation.random_samples) {
      throw new EdgeError("CONFIG_INVALID", "own_samples and random_samples must be equal: one loss graph serves both");
    }
    const session = await LossSession.create(hparams.model, hparams.evaluation.own_samples, device);
    return new Evaluator(api, hparams, expected, session);
  }

  /** θ of a work order's checkpoint, downloaded only when its ETag changes. */
  async #baseParams(order: WorkOrder): Promise<Float32Array> {
    const { bytes, etag, fresh } = await this.#api.download(order.checkpoint.url);
    if (fresh || !this.#theta || this.#theta.etag !== etag) {
      this.#theta = { etag, params: readCheckpoint(bytes, this.manifest).params };
    }
    return this.#theta.params;
  }

  /** The tokens of training samples, from the data shards. */
  #samples(ids: readonly number[]): Promise<Uint8Array> {
    return this.data.samples("train", ids);
  }

  /**
   * Evaluates every submission of a work order; `progress` is called after each. `stopping` is
   * asked between submissions: when it answers true, Interrupted is thrown (θ is intact).
   */
  async evaluate(
    order: WorkOrder,
    progress: (done: number, total: number, e: Evaluation) => void = () => {},
    stopping: () => boolean = () => false,
  ): Promise<Evaluation[]> {
    const theta = await this.#baseParams(order);
    const random = await this.#samples(order.random.samples);
    const randomKey = `${this.#theta?.etag}:${order.random.seed}:${order.random.samples.join(",")}`;
    let beforeRandom = this.#randomBefore.get(randomKey);
    if (beforeRandom === undefined) {
      beforeRandom = await this.session.losses(theta, random);
      this.#randomBefore.set(randomKey, beforeRandom);
    }
    const out: Evaluation[] = [];
    for (const item of order.submissions) {
      if (stopping()) throw new Interrupted();
      const e = await this.#evaluateOne(order, item, theta, random, beforeRandom);
      out.push(e);
      progress(out.length, order.submissions.length, e);
    }
    return out;
  }

  async #evaluateOne(
    order: WorkOrder,
    item: WorkOrder["submissions"][number],
    theta: Float32Array,
    random: Uint8Array,
    beforeRandom: MeasuredLosses,
  ): Promise<Evaluation> {
    const t0 = performance.now();
    const { bytes } = await this.#api.download(item.gradient_url);
    if (createHash("sha256").update(bytes).digest("hex") !== item.sha256) {
      // not the submission's bytes: a fault between R2 and here, not the miner's
      throw new Error(`gradient of uid ${item.uid}: SHA-256 differs from the submission's`);
    }
    const own = await this.#samples(item.own.samples);
    const result = await measureGradient({
      session: this.session,
      theta,
      bytes,
      validation: {
        manifest: this.manifest,
        hparams: this.hparams,
        expect: { netuid: order.netuid, window: order.lease.window, uid: item.uid, hotkey: item.hotkey },
      },
      evalLr: order.eval_lr,
      own,
      random,
      beforeRandom,
    });
    return { submission_id: item.submission_id, ...result, total_ms: performance.now() - t0 };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** What measureGradient needs: the session, θ (restored exactly before it returns), the file and the samples. */
export interface GradientMeasurement {
  readonly session: LossSession;
  readonly theta: Float32Array;
  readonly bytes: Uint8Array;
  readonly validation: ValidationOptions;
  readonly evalLr: number;
  readonly own: Uint8Array;
  readonly random: Uint8Array;
  /** The random samples' losses on θ_S, measured once per window. */
  readonly beforeRandom: MeasuredLosses;
}

/** A batch's mean loss and each sequence's. */
export type MeasuredLosses = Awaited<ReturnType<LossSession["losses"]>>;

/**
 * The evaluation of one gradient, without I/O: decode it (validating again), measure the loss
 * on its own samples, apply it to θ at evalLr, measure the loss on its own and on the random
 * samples, restore θ bit for bit. A gradient the codec refuses, or whose losses are not finite,
 * gives an error with its code; θ is intact either way.
 */
export async function measureGradient(m: GradientMeasurement): Promise<Omit<Evaluation, "submission_id">> {
  const t1 = performance.now();
  const undo = new UndoLog();
  try {
    const file = readGradientFile(m.bytes, m.validation);
    const t2 = performance.now();
    const beforeOwn = await m.session.losses(m.theta, m.own);
    const t3 = performance.now();
    applyGradient(m.theta, file.params, file.layouts, m.validation.hparams.compression.use_dct, m.evalLr, undo);
    const t4 = performance.now();
    const afterOwn = await m.session.losses(m.theta, m.own);
    const afterRandom = await m.session.losses(m.theta, m.random);
    const t5 = performance.now();
    undo.restore(m.theta);
    const t6 = performance.now();
    const measured = [beforeOwn, afterOwn, afterRandom];
    if (!measured.every((x) => Number.isFinite(x.loss) && x.perSample.every(Number.isFinite))) {
      throw new EdgeError("EVAL_NON_FINITE", `losses ${measured.map((x) => x.loss).join(", ")}`);
    }
    return {
      loss_before_own: beforeOwn.loss,
      loss_after_own: afterOwn.loss,
      loss_before_random: m.beforeRandom.loss,
      loss_after_random: afterRandom.loss,
      sample_losses: {
        own_before: beforeOwn.perSample,
        own_after: afterOwn.perSample,
        random_before: m.beforeRandom.perSample,
        random_after: afterRandom.perSample,
      },
      decode_ms: t2 - t1,
      apply_ms: t4 - t3,
      forward_ms: t3 - t2 + (t5 - t4),
      restore_ms: t6 - t5,
    };
  } catch (e) {
    undo.restore(m.theta);
    if (!(e instanceof EdgeError)) throw e;
    return { error: { code: e.code, message: e.message } };
  }
}
