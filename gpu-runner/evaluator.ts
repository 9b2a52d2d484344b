/**
 * Evaluation of one leased batch (docs/SPEC.md, "Evaluation"): θ_S loaded once per checkpoint;
 * per submission, decode the gradient with the codec, measure the loss on its own samples,
 * apply it at eval_lr, measure the loss on its own and on the random samples, and restore θ
 * exactly from the undo log. The loss on the random samples before any gradient is measured once
 * per window. A gradient that fails fails only its own evaluation, with a code.
 */
import { createHash } from "node:crypto";
import { isTransient } from "../schema/api/retry.ts";
import { aggregateGradients } from "../schema/codec/aggregate.ts";
import { gradientLayout, type ParamLayout } from "../schema/codec/chunking.ts";
import type { CompressedParam } from "../schema/codec/gradient-format.ts";
import { readGradientFile } from "../schema/codec/read.ts";
import type { ValidationOptions } from "../schema/codec/validate.ts";
import type { Tokens } from "../schema/data/dataset.ts";
import { EdgeError } from "../schema/errors.ts";
import type { Hparams } from "../schema/hparams.ts";
import { readCheckpoint } from "../schema/model/checkpoint.ts";
import type { ModelManifest } from "../schema/model/manifest.ts";
import { DatasetReader } from "./dataset-reader.ts";
import { modelManifest } from "./model/family.ts";
import { type EvalSession, openEvalSession } from "./model/family-sessions.ts";
import type { Device } from "./model/loss-session.ts";
import {
  HostThetaLosses,
  type MeasuredLosses,
  ResidentThetaLosses,
  type Step,
  type ThetaLosses,
} from "./theta-losses.ts";
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
  readonly session: EvalSession;
  readonly data: DatasetReader;
  readonly #device: Device;
  /** θ of the latest checkpoint, and how losses around it are measured (host or resident). */
  #theta: { etag: string; params: Float32Array; losses: ThetaLosses } | undefined;
  readonly #randomBefore = new Map<string, MeasuredLosses>();
  /** The reference step of the latest window and the random samples' losses after it, by key. */
  #reference: { key: string; step: Step; randomAfter: MeasuredLosses } | undefined;

  private constructor(
    api: ValidatorApi,
    hparams: Hparams,
    manifest: ModelManifest,
    session: EvalSession,
    device: Device,
  ) {
    this.#api = api;
    this.#device = device;
    this.hparams = hparams;
    this.manifest = manifest;
    this.session = session;
    this.data = new DatasetReader(api);
  }

  /** Reads the validator's hparams and model manifest and opens the loss session on `device`. */
  static async open(api: ValidatorApi, device: Device): Promise<Evaluator> {
    const hparams = await api.hparams();
    const manifest = await api.json<ModelManifest>("/v1/model/manifest");
    const expected = modelManifest(hparams.model);
    if (JSON.stringify(manifest.parameters) !== JSON.stringify(expected.parameters)) {
      throw new EdgeError(
        "CONFIG_INVALID",
        `the validator's model ${manifest.model} is not the ${hparams.profile} profile's ${expected.model}`,
      );
    }
    if (hparams.evaluation.own_samples !== hparams.evaluation.random_samples) {
      throw new EdgeError("CONFIG_INVALID", "own_samples and random_samples must be equal: one loss graph serves both");
    }
    const session = await openEvalSession(hparams, hparams.evaluation.own_samples, device);
    return new Evaluator(api, hparams, expected, session, device);
  }

  /**
   * θ of a work order's checkpoint, downloaded only when its ETag changes, and the losses around it:
   * θ-resident for the llama family (loaded into its session once per checkpoint), on the host
   * through the shared loss session otherwise.
   */
  async #base(order: WorkOrder): Promise<{ params: Float32Array; losses: ThetaLosses }> {
    const { bytes, etag, fresh } = await this.#api.download(order.checkpoint.url);
    if (fresh || !this.#theta || this.#theta.etag !== etag) {
      await this.#theta?.losses.release();
      this.#theta = undefined;
      const params = readCheckpoint(bytes, this.manifest).params;
      const losses =
        this.hparams.model.family === "llama"
          ? await ResidentThetaLosses.create(this.hparams, params, this.#device)
          : new HostThetaLosses(this.session, params);
      this.#theta = { etag, params, losses };
    }
    return this.#theta;
  }

  /** The tokens of training samples, from the data shards. */
  #samples(ids: readonly number[]): Promise<Tokens> {
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
    const { losses: theta } = await this.#base(order);
    const random = await this.#samples(order.random.samples);
    const randomKey = `${this.#theta?.etag}:${order.random.seed}:${order.random.samples.join(",")}`;
    let beforeRandom = this.#randomBefore.get(randomKey);
    if (beforeRandom === undefined) {
      beforeRandom = await theta.losses(random);
      this.#randomBefore.set(randomKey, beforeRandom);
    }
    const reference = await this.#referenceOf(order, theta, random, randomKey);
    const out: Evaluation[] = [];
    for (const item of order.submissions) {
      if (stopping()) throw new Interrupted();
      const e = await this.#evaluateOne(order, item, theta, random, beforeRandom, reference);
      out.push(e);
      progress(out.length, order.submissions.length, e);
    }
    return out;
  }

  /** A submission's file, checked against its signed SHA-256 (a mismatch is a fault between R2 and here, not the miner's). */
  async #gradient(item: { gradient_url: string; sha256: string; uid: number }): Promise<Uint8Array> {
    const { bytes } = await this.#api.download(item.gradient_url);
    if (createHash("sha256").update(bytes).digest("hex") !== item.sha256) {
      throw new Error(`gradient of uid ${item.uid}: SHA-256 differs from the submission's`);
    }
    return bytes;
  }

  /**
   * The window's reference step (the aggregate of every dispatched gradient that decodes) and the
   * random samples' losses after it, computed once per window and θ.
   */
  async #referenceOf(order: WorkOrder, theta: ThetaLosses, random: Tokens, randomKey: string) {
    const key = `${randomKey}:${order.reference.map((r) => r.sha256).join(",")}`;
    if (this.#reference?.key === key) return this.#reference;
    const gradients = [];
    for (const r of order.reference) {
      try {
        const bytes = await this.#gradient(r);
        gradients.push(
          readGradientFile(bytes, {
            manifest: this.manifest,
            hparams: this.hparams,
            expect: { netuid: order.netuid, window: order.lease.window, uid: r.uid, hotkey: r.hotkey },
          }).params,
        );
      } catch (e) {
        // A file the codec refuses is left out, as its evaluation fails; a validator that cannot serve it ends the work.
        if (!(e instanceof EdgeError) || isTransient(e)) throw e;
      }
    }
    const step = referenceStep(
      gradients,
      gradientLayout(this.manifest, this.hparams.compression),
      this.hparams.compression.use_dct,
      order.eval_lr,
    );
    this.#reference = step
      ? { key, step, randomAfter: (await theta.withStep(step, (at) => at(random))).result }
      : undefined;
    return this.#reference;
  }

  async #evaluateOne(
    order: WorkOrder,
    item: WorkOrder["submissions"][number],
    theta: ThetaLosses,
    random: Tokens,
    beforeRandom: MeasuredLosses,
    reference: { step: Step; randomAfter: MeasuredLosses } | undefined,
  ): Promise<Evaluation> {
    const t0 = performance.now();
    const bytes = await this.#gradient(item);
    const own = await this.#samples(item.own.samples);
    const result = await measureGradient({
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
      ...(reference ? { reference } : {}),
    });
    return { submission_id: item.submission_id, ...result, total_ms: performance.now() - t0 };
  }

  async close(): Promise<void> {
    await this.#theta?.losses.release();
    await this.session.release();
  }
}

/**
 * The window's reference step (★, docs/SPEC.md §2.4): θ − eval_lr · the crowd's direction (the
 * norm-clipped mean of every valid gradient of the window: the outer step's aggregation,
 * schema/codec/aggregate.ts, each clipped to the median norm, then averaged, so no one gradient
 * steers it). Its loss on a sample says how much any useful step of this window improves that
 * sample, so a miner's own-sample improvement can be compared, sample by sample, with what the
 * crowd's step does to the same samples. Null when there are no gradients or the mean is not finite.
 */
export function referenceStep(
  gradients: readonly (readonly CompressedParam[])[],
  layouts: readonly ParamLayout[],
  useDct: boolean,
  evalLr: number,
): Step | null {
  if (gradients.length === 0) return null;
  const direction = aggregateGradients(gradients, layouts, useDct);
  return direction.every(Number.isFinite) ? { kind: "direction", direction, lr: evalLr } : null;
}

/** What measureGradient needs: θ (the same when it returns), the file, the samples and the window's figures. */
export interface GradientMeasurement {
  readonly theta: ThetaLosses;
  readonly bytes: Uint8Array;
  readonly validation: ValidationOptions;
  readonly evalLr: number;
  readonly own: Tokens;
  readonly random: Tokens;
  /** The random samples' losses on θ_S, measured once per window. */
  readonly beforeRandom: MeasuredLosses;
  /** The window's reference step, and the random samples' losses after it (measured once per window). */
  readonly reference?: { readonly step: Step; readonly randomAfter: MeasuredLosses };
}

/**
 * The evaluation of one gradient, without I/O: decode it (validating again), measure the loss
 * on its own samples, step θ by it at evalLr, measure the loss on its own and on the random
 * samples, take the step back. A gradient the codec refuses, or whose losses are not finite,
 * gives an error with its code; θ is intact either way.
 */
export async function measureGradient(m: GradientMeasurement): Promise<Omit<Evaluation, "submission_id">> {
  const t1 = performance.now();
  try {
    const file = readGradientFile(m.bytes, m.validation);
    const t2 = performance.now();
    const beforeOwn = await m.theta.losses(m.own);
    const t3 = performance.now();
    const step: Step = {
      kind: "gradient",
      params: file.params,
      layouts: file.layouts,
      useDct: m.validation.hparams.compression.use_dct,
      lr: m.evalLr,
    };
    const stepped = await m.theta.withStep(step, async (at) => [await at(m.own), await at(m.random)] as const);
    const [afterOwn, afterRandom] = stepped.result;
    const t4 = performance.now();
    const referenceOwn = m.reference && (await m.theta.withStep(m.reference.step, (at) => at(m.own))).result;
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
        ...(m.reference && referenceOwn
          ? { reference_own_after: referenceOwn.perSample, reference_random_after: m.reference.randomAfter.perSample }
          : {}),
      },
      decode_ms: t2 - t1,
      apply_ms: stepped.applyMs,
      forward_ms: t3 - t2 + (t4 - t3 - stepped.applyMs - stepped.restoreMs),
      restore_ms: stepped.restoreMs,
    };
  } catch (e) {
    // The validator's fault (a download it could not serve) is not the miner's: the work fails instead.
    if (!(e instanceof EdgeError) || isTransient(e)) throw e;
    return { error: { code: e.code, message: e.message } };
  }
}
