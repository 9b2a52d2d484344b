/**
 * The llama family's loss-and-gradient graph in onnxruntime-node (a miner's inner step on an HF
 * `LlamaForCausalLM` shape): Templar's loss of a batch of token samples and its gradient with
 * respect to every parameter, flat in manifest order, from the same forward nodes as the loss graph.
 */

import type ort from "onnxruntime-node";
import type { Tokens } from "../../schema/data/dataset.ts";
import { type LlamaConfig, llamaManifest } from "../../schema/model/llama.ts";
import { type ParameterSlot, parameterSlots } from "../../schema/model/manifest.ts";
import { buildLlamaTrainingGraph, LLAMA_LOSS } from "./llama.ts";
import {
  type Device,
  flatGradient,
  llamaBatchFeeds,
  openModelSession,
  parameterFeeds,
  trainingFetches,
} from "./session-io.ts";

export class LlamaGradientSession {
  readonly config: LlamaConfig;
  readonly batch: number;
  readonly seqLen: number;
  readonly #session: ort.InferenceSession;
  readonly #slots: readonly ParameterSlot[];
  readonly #total: number;
  readonly #fetches: readonly string[];

  private constructor(session: ort.InferenceSession, config: LlamaConfig, batch: number, seqLen: number) {
    const { slots, total } = parameterSlots(llamaManifest(config));
    this.#session = session;
    this.#slots = slots;
    this.#total = total;
    this.#fetches = trainingFetches(LLAMA_LOSS, slots);
    this.config = config;
    this.batch = batch;
    this.seqLen = seqLen;
  }

  /** Builds the float32 training graph for `batch` samples of `seqLen` tokens and opens a session on `device`. */
  static async create(
    config: LlamaConfig,
    batch: number,
    seqLen: number,
    device: Device = "cpu",
  ): Promise<LlamaGradientSession> {
    const session = await openModelSession(buildLlamaTrainingGraph(config, batch, seqLen), device);
    return new LlamaGradientSession(session, config, batch, seqLen);
  }

  /**
   * Templar's loss (nats: the mean over samples of each sample's mean cross-entropy over its
   * valid positions) under the flat parameters `params`, and its gradient, flat in manifest order
   * (the layout of `params`). `samples` holds batch·seqLen token ids, row-major; as in Templar,
   * the input ids are the sample and the labels are `templarLabels` of it (shifted left, the last
   * position and every EOS target ignored). A sample with no valid position makes both NaN.
   */
  async lossAndGradient(params: Float32Array, samples: Tokens): Promise<{ loss: number; gradient: Float32Array }> {
    const feeds = {
      ...llamaBatchFeeds(samples, this.batch, this.seqLen, this.config.eos_token_id),
      ...parameterFeeds(this.#slots, params),
    };
    const out = await this.#session.run(feeds, this.#fetches as string[]);
    return {
      loss: (out[LLAMA_LOSS] as ort.Tensor).data[0] as number,
      gradient: flatGradient(out, this.#slots, this.#total),
    };
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}
