/**
 * The model's loss graph in onnxruntime-node: CPU by default, the CUDA execution provider where
 * it is installed. Parameters are fed per run as views of one flat Float32Array (no copies).
 */
import ort from "onnxruntime-node";
import type { ModelHparams } from "../../schema/hparams.ts";
import { type ParameterSlot, parameterSlots } from "../../schema/model/manifest.ts";
import { buildLossGraph, LOSS, TARGETS, TOKENS, transformerManifest } from "./transformer.ts";

export type Device = "cpu" | "cuda";

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
  static async create(model: ModelHparams, batch: number, device: Device = "cpu"): Promise<LossSession> {
    const session = await ort.InferenceSession.create(buildLossGraph(model, batch), {
      executionProviders: device === "cuda" ? ["cuda", "cpu"] : ["cpu"],
      // One intra-op thread was the fastest under contention (reference/gradients.md, O9).
      intraOpNumThreads: 1,
      graphOptimizationLevel: "all",
    });
    return new LossSession(session, parameterSlots(transformerManifest(model)).slots, batch, model.seq_len);
  }

  /**
   * Mean next-byte cross-entropy (nats) of `batch` sequences under the flat parameters `params`:
   * `tokens` holds batch·(seq_len + 1) bytes, each sequence its inputs followed by one more byte.
   */
  async loss(params: Float32Array, tokens: Uint8Array): Promise<number> {
    const { batch, seqLen } = this;
    if (tokens.length !== batch * (seqLen + 1))
      throw new Error(`expected ${batch}×${seqLen + 1} tokens, got ${tokens.length}`);
    const inputs = new BigInt64Array(batch * seqLen);
    const targets = new BigInt64Array(batch * seqLen);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < seqLen; t++) {
        inputs[b * seqLen + t] = BigInt(tokens[b * (seqLen + 1) + t] as number);
        targets[b * seqLen + t] = BigInt(tokens[b * (seqLen + 1) + t + 1] as number);
      }
    }
    const feeds: Record<string, ort.Tensor> = {
      [TOKENS]: new ort.Tensor("int64", inputs, [batch, seqLen]),
      [TARGETS]: new ort.Tensor("int64", targets, [batch, seqLen]),
    };
    for (const { spec, offset, numel } of this.#slots) {
      feeds[spec.name] = new ort.Tensor("float32", params.subarray(offset, offset + numel), [...spec.shape]);
    }
    const out = await this.#session.run(feeds, [LOSS]);
    return (out[LOSS] as ort.Tensor).data[0] as number;
  }

  /** The names the session takes as inputs (a check that parameters really are graph inputs). */
  get inputNames(): readonly string[] {
    return this.#session.inputNames;
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}
