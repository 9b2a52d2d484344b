/**
 * Losses at θ and at θ plus a step, the evaluator's one question, answered two ways:
 * - on the host (byte family): θ is a flat Float32Array fed to the session every run; a step is
 *   added to it and taken back (a gradient through the undo log, bit for bit);
 * - θ-resident (llama family): θ lives in the session, loaded once per checkpoint; a step is fed
 *   as a sparse delta the graph adds (resident-session.ts), so θ is never copied per submission
 *   and there is nothing to restore.
 */
import type { ParamLayout } from "../schema/codec/chunking.ts";
import { applyGradient, UndoLog } from "../schema/codec/decode.ts";
import type { CompressedParam } from "../schema/codec/gradient-format.ts";
import type { Tokens } from "../schema/data/dataset.ts";
import type { Hparams } from "../schema/hparams.ts";
import { llamaModel } from "./model/family.ts";
import type { EvalSession } from "./model/family-sessions.ts";
import { directionDelta, type ResidentDelta, ResidentLlamaSession, residentDelta } from "./model/resident-session.ts";
import type { Device } from "./model/session-io.ts";

/** A batch's mean loss and each sample's. */
export interface MeasuredLosses {
  readonly loss: number;
  readonly perSample: number[];
}

/** A step from θ: a miner's decoded gradient, or a dense direction (the reference step), both at −lr. */
export type Step =
  | {
      readonly kind: "gradient";
      readonly params: readonly CompressedParam[];
      readonly layouts: readonly ParamLayout[];
      readonly useDct: boolean;
      readonly lr: number;
    }
  | { readonly kind: "direction"; readonly direction: Float32Array; readonly lr: number };

/** What a step cost to put in place and to take back (ms). */
export interface StepTimes {
  readonly applyMs: number;
  readonly restoreMs: number;
}

/** Losses of samples at θ, and under a step; θ is the same after every call. */
export interface ThetaLosses {
  losses(samples: Tokens): Promise<MeasuredLosses>;
  /** Runs `measure` with θ + step in force; θ is back (or was never touched) when it settles. */
  withStep<T>(
    step: Step,
    measure: (at: (samples: Tokens) => Promise<MeasuredLosses>) => Promise<T>,
  ): Promise<{ result: T } & StepTimes>;
  /** Frees what this θ holds (a resident session); θ's owner may drop it afterwards. */
  release(): Promise<void>;
}

/** θ on the host, fed to a loss session each run. */
export class HostThetaLosses implements ThetaLosses {
  readonly #session: EvalSession;
  readonly #theta: Float32Array;

  constructor(session: EvalSession, theta: Float32Array) {
    this.#session = session;
    this.#theta = theta;
  }

  losses(samples: Tokens): Promise<MeasuredLosses> {
    return this.#session.losses(this.#theta, samples);
  }

  async withStep<T>(
    step: Step,
    measure: (at: (samples: Tokens) => Promise<MeasuredLosses>) => Promise<T>,
  ): Promise<{ result: T } & StepTimes> {
    const theta = this.#theta;
    const t0 = performance.now();
    const undo = new UndoLog();
    const saved = step.kind === "direction" ? Float32Array.from(theta) : undefined;
    let applyMs = 0;
    let restoreMs = 0;
    let result: T;
    try {
      if (step.kind === "gradient") applyGradient(theta, step.params, step.layouts, step.useDct, step.lr, undo);
      else
        for (let i = 0; i < theta.length; i++)
          theta[i] = (theta[i] as number) - step.lr * (step.direction[i] as number);
      applyMs = performance.now() - t0;
      result = await measure((samples) => this.losses(samples));
    } finally {
      const t1 = performance.now();
      if (saved) theta.set(saved);
      else undo.restore(theta);
      restoreMs = performance.now() - t1;
    }
    return { result, applyMs, restoreMs };
  }

  /** Nothing to free: the loss session belongs to whoever passed it in. */
  async release(): Promise<void> {}
}

/** θ resident in a llama session (loaded once), steps fed as sparse deltas, in micro-batches. */
export class ResidentThetaLosses implements ThetaLosses {
  readonly #session: ResidentLlamaSession;
  readonly #seqLen: number;

  private constructor(session: ResidentLlamaSession, seqLen: number) {
    this.#session = session;
    this.#seqLen = seqLen;
  }

  /** Loads θ (flat, manifest order) into a resident session of the profile's llama model, on `device`. */
  static async create(hparams: Hparams, theta: Float32Array, device: Device = "cpu"): Promise<ResidentThetaLosses> {
    const m = llamaModel(hparams, "θ-resident evaluation");
    const session = await ResidentLlamaSession.create(m.config, {
      batch: m.micro_batch,
      seqLen: m.seq_len,
      compression: hparams.compression,
      theta: { params: theta },
      device,
    });
    return new ResidentThetaLosses(session, m.seq_len);
  }

  losses(samples: Tokens): Promise<MeasuredLosses> {
    return this.#run(samples, null);
  }

  async #run(samples: Tokens, delta: ResidentDelta | null): Promise<MeasuredLosses> {
    const micro = this.#session.batch * this.#seqLen;
    if (samples.length % micro !== 0)
      throw new Error(`${samples.length} ids are not whole micro-batches of ${this.#session.batch}×${this.#seqLen}`);
    const perSample: number[] = [];
    for (let at = 0; at < samples.length; at += micro)
      perSample.push(...(await this.#session.losses(samples.subarray(at, at + micro), delta)).perSample);
    return { loss: perSample.reduce((a, b) => a + b, 0) / perSample.length, perSample };
  }

  async withStep<T>(
    step: Step,
    measure: (at: (samples: Tokens) => Promise<MeasuredLosses>) => Promise<T>,
  ): Promise<{ result: T } & StepTimes> {
    const t0 = performance.now();
    const delta =
      step.kind === "gradient"
        ? residentDelta(step.params, step.layouts, step.useDct, step.lr)
        : directionDelta(step.direction, this.#session.layouts, step.lr);
    const t1 = performance.now();
    return { result: await measure((samples) => this.#run(samples, delta)), applyMs: t1 - t0, restoreMs: 0 };
  }

  release(): Promise<void> {
    return this.#session.release();
  }
}
