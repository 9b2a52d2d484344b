/**
 * The model's loss graph in onnxruntime-node: CPU by default, the CUDA execution provider where
 * it is installed. Parameters are fed per run as views of one flat Float32Array (no copies).
 */

import type ort from "onnxruntime-node";
import type { Tokens } from "../../schema/data/dataset.ts";
import type { ByteModelHparams } from "../../schema/hparams.ts";
import { type ParameterSlot, parameterSlots } from "../../schema/model/manifest.ts";
import { batchFeeds, type Device, openModelSession, parameterFeeds } from "./session-io.ts";
import { buildLossGraph, LOSS, SAMPLE_LOSSES, transformerManifest } from "./transformer.ts";

export type { Device } from "./session-io.ts";

export class LossSession {
  readonly batch: number;
  readonly seqLen: number;
  readonly #session: ort.InferenceSession;
  readonly #slots: readonly ParameterSlot[];

  private constructor(session: ort.InferenceSession, slots: readonly ParameterSlot[], batch: number, seqLen: number) {
    this.#session = session;
    this.#slots = slots;
    this.batch = batch;
    this.seqLen = seqLen;
  }

  /** Builds the loss graph for `batch` sequences and opens a session on `device`. */
  static async create(model: ByteModelHparams, batch: number, device: Device = "cpu"): Promise<LossSession> {
    const session = await openModelSession(buildLossGraph(model, batch), device);
    return new LossSession(session, parameterSlots(transformerManifest(model)).slots, batch, model.seq_len);
  }

  /**
   * Mean next-byte cross-entropy (nats) of `batch` sequences under the flat parameters `params`:
   * `tokens` holds batch·(seq_len + 1) bytes, each sequence its inputs followed by one more byte.
   */
  async loss(params: Float32Array, tokens: Tokens): Promise<number> {
    const feeds = { ...batchFeeds(tokens, this.batch, this.seqLen), ...parameterFeeds(this.#slots, params) };
    const out = await this.#session.run(feeds, [LOSS]);
    return (out[LOSS] as ort.Tensor).data[0] as number;
  }

  /** The mean loss and each sequence's own mean loss (nats), from one run. */
  async losses(params: Float32Array, tokens: Tokens): Promise<{ loss: number; perSample: number[] }> {
    const feeds = { ...batchFeeds(tokens, this.batch, this.seqLen), ...parameterFeeds(this.#slots, params) };
    const out = await this.#session.run(feeds, [LOSS, SAMPLE_LOSSES]);
    return {
      loss: (out[LOSS] as ort.Tensor).data[0] as number,
      perSample: Array.from((out[SAMPLE_LOSSES] as ort.Tensor).data as Float32Array),
    };
  }

  /** The names the session takes as inputs (a check that parameters really are graph inputs). */
  get inputNames(): readonly string[] {
    return this.#session.inputNames;
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}
