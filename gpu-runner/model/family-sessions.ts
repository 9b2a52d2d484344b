/**
 * The model sessions of a profile, whichever its family: the evaluator's loss session and the
 * miner's loss-and-gradient session, behind one shape each, so the evaluator, the outer step and
 * the reference miner do not branch on the family.
 */
import type { Tokens } from "../../schema/data/dataset.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { Hparams } from "../../schema/hparams.ts";
import { llamaModel } from "./family.ts";
import { GradientSession } from "./gradient-session.ts";
import { LlamaGradientSession } from "./llama-gradient-session.ts";
import { LlamaLossSession } from "./llama-loss-session.ts";
import { LossSession } from "./loss-session.ts";
import type { Device } from "./session-io.ts";

/** A loss graph for batches of `batch` samples, θ fed per run. */
export interface EvalSession {
  readonly batch: number;
  loss(params: Float32Array, samples: Tokens): Promise<number>;
  losses(params: Float32Array, samples: Tokens): Promise<{ loss: number; perSample: number[] }>;
  release(): Promise<void>;
}

/** A loss-and-gradient graph for batches of `batch` samples. */
export interface TrainSession {
  readonly batch: number;
  lossAndGradient(params: Float32Array, samples: Tokens): Promise<{ loss: number; gradient: Float32Array }>;
  release(): Promise<void>;
}

/** The samples of micro-batch `i` of `size` samples, `width` tokens each. */
function slice(samples: Tokens, i: number, size: number, width: number): Tokens {
  return samples.subarray(i * size * width, (i + 1) * size * width);
}

/** `batch` samples a call, run `micro` at a time by `inner` (a session of batch `micro`): per-sample losses concatenated. */
class MicroBatchedEval implements EvalSession {
  readonly batch: number;
  readonly inner: EvalSession;
  readonly width: number;

  constructor(batch: number, inner: EvalSession, width: number) {
    this.batch = batch;
    this.inner = inner;
    this.width = width;
  }

  async loss(params: Float32Array, samples: Tokens): Promise<number> {
    return (await this.losses(params, samples)).loss;
  }

  async losses(params: Float32Array, samples: Tokens): Promise<{ loss: number; perSample: number[] }> {
    const perSample: number[] = [];
    for (let i = 0; i < this.batch / this.inner.batch; i++)
      perSample.push(...(await this.inner.losses(params, slice(samples, i, this.inner.batch, this.width))).perSample);
    return { loss: perSample.reduce((a, b) => a + b, 0) / perSample.length, perSample };
  }

  release(): Promise<void> {
    return this.inner.release();
  }
}

/** `batch` samples a call, `micro` at a time: the mean loss and the mean gradient (gradient accumulation). */
class MicroBatchedTrain implements TrainSession {
  readonly batch: number;
  readonly inner: TrainSession;
  readonly width: number;

  constructor(batch: number, inner: TrainSession, width: number) {
    this.batch = batch;
    this.inner = inner;
    this.width = width;
  }

  async lossAndGradient(params: Float32Array, samples: Tokens): Promise<{ loss: number; gradient: Float32Array }> {
    const runs = this.batch / this.inner.batch;
    let loss = 0;
    let gradient: Float32Array | undefined;
    for (let i = 0; i < runs; i++) {
      const part = await this.inner.lossAndGradient(params, slice(samples, i, this.inner.batch, this.width));
      loss += part.loss / runs;
      if (gradient === undefined) gradient = part.gradient;
      else for (let j = 0; j < gradient.length; j++) (gradient[j] as number) += part.gradient[j] as number;
    }
    const sum = gradient as Float32Array;
    if (runs > 1) for (let j = 0; j < sum.length; j++) sum[j] = (sum[j] as number) / runs;
    return { loss, gradient: sum };
  }

  release(): Promise<void> {
    return this.inner.release();
  }
}

/** Samples per graph run for `batch` samples: the llama profile's micro_batch when it divides the batch. */
function microBatch(hparams: Hparams, batch: number): number {
  const m = llamaModel(hparams, "micro-batching");
  if (batch % m.micro_batch !== 0)
    throw new EdgeError(
      "CONFIG_INVALID",
      `a batch of ${batch} samples is not a multiple of micro_batch ${m.micro_batch}`,
    );
  return m.micro_batch;
}

/** Opens the profile's loss session for `batch` samples a call on `device` (llama: in micro-batches). */
export async function openEvalSession(hparams: Hparams, batch: number, device: Device = "cpu"): Promise<EvalSession> {
  if (hparams.model.family === "byte") return LossSession.create(hparams.model, batch, device);
  const m = llamaModel(hparams, "the loss session");
  const micro = microBatch(hparams, batch);
  const inner = await LlamaLossSession.create(m.config, micro, m.seq_len, device);
  return micro === batch ? inner : new MicroBatchedEval(batch, inner, m.seq_len);
}

/** Opens the profile's loss-and-gradient session for `batch` samples a call on `device` (llama: in micro-batches). */
export async function openTrainSession(hparams: Hparams, batch: number, device: Device = "cpu"): Promise<TrainSession> {
  if (hparams.model.family === "byte") return GradientSession.create(hparams.model, batch, device);
  const m = llamaModel(hparams, "the training session");
  const micro = microBatch(hparams, batch);
  const inner = await LlamaGradientSession.create(m.config, micro, m.seq_len, device);
  return micro === batch ? inner : new MicroBatchedTrain(batch, inner, m.seq_len);
}
