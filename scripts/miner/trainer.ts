/**
 * One window of the reference miner's training (docs/SPEC.md §2, Templar's miner): from θ_base,
 * `inner_steps` AdamW steps on the miner's pool (step j on pool[j·B : (j+1)·B]) reaching θ';
 * the pseudo-gradient Δ = θ_base − θ'; error feedback EF ← momentum_decay·EF + outer_lr·Δ; EF
 * compressed into the gradient file (param_sample from θ_base); EF ← EF − decode(compressed).
 *
 * The AdamW moments persist across windows, as Templar's miner keeps one inner optimizer for its
 * whole run (only θ is reset to the global model each window); so does the EF buffer.
 */

import { modelManifest } from "../../gpu-runner/model/family.ts";
import { openTrainSession, type TrainSession } from "../../gpu-runner/model/family-sessions.ts";
import type { Device } from "../../gpu-runner/model/session-io.ts";
import { gradientLayout, type ParamLayout } from "../../schema/codec/chunking.ts";
import type { FormatVersion } from "../../schema/codec/format-version.ts";
import type { CompressedParam, GradientIdentity } from "../../schema/codec/gradient-format.ts";
import type { Tokens } from "../../schema/data/dataset.ts";
import type { Hparams } from "../../schema/hparams.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";
import { AdamW } from "./adamw.ts";
import { ErrorFeedback } from "./error-feedback.ts";
import { ParallelEncoder } from "./parallel-encode.ts";

/** The tokens of training samples `ids`, concatenated (ids.length × (seq_len + 1) bytes). */
export type SampleSource = (ids: readonly number[]) => Promise<Tokens>;

/** Called after each inner step with its loss (nats). */
export type StepListener = (step: number, steps: number, loss: number) => void;

/** The inner steps' outcome: θ' and the loss of each step's batch before its update. */
export interface InnerRun {
  readonly theta: Float32Array;
  readonly losses: readonly number[];
}

/** A window's compressed pseudo-gradient, ready to upload. */
export interface TrainedGradient {
  readonly file: Uint8Array;
  /** The compressed parameters the file holds, manifest order. */
  readonly params: readonly CompressedParam[];
  readonly losses: readonly number[];
  /** Δ = θ_base − θ'. */
  readonly delta: Float32Array;
}

export interface WindowTraining {
  /** θ_base: the checkpoint the miner starts from (not modified). */
  readonly theta: Float32Array;
  /** Sample ids in training order: inner step j takes pool[j·B : (j+1)·B]. */
  readonly pool: readonly number[];
  readonly samples: SampleSource;
  /** Who uploads it, for which window, from which base window. */
  readonly identity: GradientIdentity;
  /** The gradient format to write (the latest by default). */
  readonly formatVersion?: FormatVersion;
  readonly onStep?: StepListener;
}

/**
 * The process's encoder, shared by its trainers (a simulation runs one per miner): encodes queue
 * on it, and the process starts one set of threads, not one per trainer. The last trainer
 * released closes it.
 */
let sharedEncoder: { readonly encoder: ParallelEncoder; users: number } | undefined;

function acquireEncoder(): ParallelEncoder {
  sharedEncoder ??= { encoder: new ParallelEncoder(), users: 0 };
  sharedEncoder.users++;
  return sharedEncoder.encoder;
}

async function releaseEncoder(encoder: ParallelEncoder): Promise<void> {
  if (sharedEncoder?.encoder !== encoder || --sharedEncoder.users > 0) return;
  sharedEncoder = undefined;
  await encoder.close();
}

export class Trainer {
  readonly hparams: Hparams;
  readonly layouts: readonly ParamLayout[];
  readonly optimizer: AdamW;
  readonly errorFeedback: ErrorFeedback;
  readonly #session: TrainSession;
  /** False for a session another owner releases (trainers of a simulation share one). */
  readonly #ownsSession: boolean;
  /** Encodes on every core (the process's shared pool); taken at the first window, so trainers that never upload start no threads. */
  #encoder: ParallelEncoder | undefined;

  private constructor(hparams: Hparams, session: TrainSession, total: number, ownsSession: boolean) {
    const t = hparams.training;
    this.hparams = hparams;
    this.layouts = gradientLayout(modelManifest(hparams.model), hparams.compression);
    this.#session = session;
    this.#ownsSession = ownsSession;
    this.optimizer = new AdamW(total, {
      learningRate: t.inner_learning_rate,
      beta1: t.inner_beta1,
      beta2: t.inner_beta2,
      weightDecay: t.inner_weight_decay,
      gradClip: t.inner_grad_clip,
    });
    this.errorFeedback = new ErrorFeedback(total, t.momentum_decay, t.outer_learning_rate);
  }

  /**
   * A trainer with optimizer and error-feedback state of its own, on a loss-and-gradient session
   * for the profile's model and batch size: `shared` (stateless: its owner releases it), or one of
   * its own opened on `device`.
   */
  static async create(hparams: Hparams, device: Device = "cpu", shared?: TrainSession): Promise<Trainer> {
    const session = shared ?? (await openTrainSession(hparams, hparams.training.batch_size, device));
    return new Trainer(hparams, session, parameterSlots(modelManifest(hparams.model)).total, !shared);
  }

  /** AdamW inner steps from a copy of θ_base on `pool`, one batch_size slice per step. */
  async innerSteps(
    thetaBase: Float32Array,
    pool: readonly number[],
    samples: SampleSource,
    onStep?: StepListener,
  ): Promise<InnerRun> {
    const batch = this.hparams.training.batch_size;
    const steps = Math.min(this.hparams.training.inner_steps, Math.floor(pool.length / batch));
    const theta = Float32Array.from(thetaBase);
    const losses: number[] = [];
    for (let j = 0; j < steps; j++) {
      const tokens = await samples(pool.slice(j * batch, (j + 1) * batch));
      const { loss, gradient } = await this.#session.lossAndGradient(theta, tokens);
      this.optimizer.step(theta, gradient);
      losses.push(loss);
      onStep?.(j + 1, steps, loss);
    }
    return { theta, losses };
  }

  /** A window's training: inner steps, Δ, error feedback, compression and the file. */
  async trainWindow(w: WindowTraining): Promise<TrainedGradient> {
    const run = await this.innerSteps(w.theta, w.pool, w.samples, w.onStep);
    const delta = new Float32Array(w.theta.length);
    for (let i = 0; i < delta.length; i++) delta[i] = w.theta[i] - run.theta[i];
    const ef = this.errorFeedback;
    ef.accumulate(delta);
    const { compression, sync } = this.hparams;
    this.#encoder ??= acquireEncoder();
    // EF lives in shared memory (ErrorFeedback), so the encoder's threads read it without a copy.
    const { file, params } = await this.#encoder.encode({
      identity: w.identity,
      gradient: ef.buffer,
      parameters: w.theta,
      layouts: this.layouts,
      compression,
      sync,
      formatVersion: w.formatVersion,
    });
    ef.subtractSent(params, this.layouts, compression.use_dct);
    return { file, params, losses: run.losses, delta };
  }

  /** Lets go of the encoder (its threads stop with the last trainer) and, when it owns it, releases the training session. */
  async release(): Promise<void> {
    const encoder = this.#encoder;
    this.#encoder = undefined;
    if (encoder) await releaseEncoder(encoder);
    if (this.#ownsSession) await this.#session.release();
  }
}
