/**
 * The model's loss-and-gradient graph in onnxruntime-node (a miner's inner step): the loss of a
 * batch and its gradient with respect to every parameter, from the same forward nodes as the
 * evaluator's loss graph.
 */

import type ort from "onnxruntime-node";
import type { Tokens } from "../../schema/data/dataset.ts";
import type { ByteModelHparams } from "../../schema/hparams.ts";
import { type ParameterSlot, parameterSlots } from "../../schema/model/manifest.ts";
import {
  batchFeeds,
  type Device,
  flatGradient,
  openModelSession,
  parameterFeeds,
  trainingFetches,
} from "./session-io.ts";
import { buildTrainingGraph, LOSS, transformerManifest } from "./transformer.ts";

export class GradientSession {
  readonly batch: number;
  readonly seqLen: number;
  readonly #session: ort.InferenceSession;
  readonly #slots: readonly ParameterSlot[];
  readonly #total: number;
  readonly #fetches: readonly string[];

  private constructor(
    session: ort.InferenceSession,
    slots: readonly ParameterSlot[],
    total: number,
    batch: number,
    seqLen: number,
  ) {
    this.#session = session;
    this.#slots = slots;
    this.#total = total;
    this.#fetches = trainingFetches(LOSS, slots);
    this.batch = batch;
    this.seqLen = seqLen;
  }

  /** Builds the float32 training graph for `batch` sequences and opens a session on `device`. */
  static async create(model: ByteModelHparams, batch: number, device: Device = "cpu"): Promise<GradientSession> {
    const session = await openModelSession(buildTrainingGraph(model, batch), device);
    const { slots, total } = parameterSlots(transformerManifest(model));
    return new GradientSession(session, slots, total, batch, model.seq_len);
  }

  /**
   * The mean next-byte cross-entropy (nats) of `batch` sequences under the flat parameters
   * `params`, and its gradient, flat in manifest order (the layout of `params`). `tokens` is as
   * for LossSession.loss: batch·(seq_len + 1) bytes.
   */
  async lossAndGradient(params: Float32Array, tokens: Tokens): Promise<{ loss: number; gradient: Float32Array }> {
    const feeds = { ...batchFeeds(tokens, this.batch, this.seqLen), ...parameterFeeds(this.#slots, params) };
    const out = await this.#session.run(feeds, this.#fetches as string[]);
    return { loss: (out[LOSS] as ort.Tensor).data[0] as number, gradient: flatGradient(out, this.#slots, this.#total) };
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}
