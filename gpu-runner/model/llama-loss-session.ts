/**
 * The llama family's loss graph in onnxruntime-node with θ fed per run as views of one flat
 * Float32Array (the host path: the evaluator applies a step to θ and restores it from an undo log,
 * as for the byte model). Templar's loss: each sample's mean cross-entropy over its valid labels.
 */
import type ort from "onnxruntime-node";
import type { Tokens } from "../../schema/data/dataset.ts";
import { type LlamaConfig, llamaManifest } from "../../schema/model/llama.ts";
import { type ParameterSlot, parameterSlots } from "../../schema/model/manifest.ts";
import { buildLlamaLossGraph, LLAMA_LOSS, LLAMA_SAMPLE_LOSSES } from "./llama.ts";
import { type Device, llamaBatchFeeds, openModelSession, parameterFeeds } from "./session-io.ts";

export class LlamaLossSession {
  readonly config: LlamaConfig;
  readonly batch: number;
  readonly seqLen: number;
  readonly #session: ort.InferenceSession;
  readonly #slots: readonly ParameterSlot[];

  private constructor(session: ort.InferenceSession, config: LlamaConfig, batch: number, seqLen: number) {
    this.#session = session;
    this.#slots = parameterSlots(llamaManifest(config)).slots;
    this.config = config;
    this.batch = batch;
    this.seqLen = seqLen;
  }

  /** Builds the loss graph for `batch` samples of `seqLen` tokens and opens a session on `device`. */
  static async create(
    config: LlamaConfig,
    batch: number,
    seqLen: number,
    device: Device = "cpu",
  ): Promise<LlamaLossSession> {
    const session = await openModelSession(buildLlamaLossGraph(config, batch, seqLen), device);
    return new LlamaLossSession(session, config, batch, seqLen);
  }

  /** Templar's loss (nats) of `batch` samples of seqLen ids under the flat parameters `params`. */
  async loss(params: Float32Array, samples: Tokens): Promise<number> {
    return (await this.losses(params, samples)).loss;
  }

  /** The mean loss and each sample's own mean loss (nats, NaN for a sample with no valid label), from one run. */
  async losses(params: Float32Array, samples: Tokens): Promise<{ loss: number; perSample: number[] }> {
    const feeds = {
      ...llamaBatchFeeds(samples, this.batch, this.seqLen, this.config.eos_token_id),
      ...parameterFeeds(this.#slots, params),
    };
    const out = await this.#session.run(feeds, [LLAMA_LOSS, LLAMA_SAMPLE_LOSSES]);
    return {
      loss: (out[LLAMA_LOSS] as ort.Tensor).data[0] as number,
      perSample: Array.from((out[LLAMA_SAMPLE_LOSSES] as ort.Tensor).data as Float32Array),
    };
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}
