/**
 * Error feedback (docs/SPEC.md §2 step 4, Templar's miner): the buffer accumulates the decayed
 * pseudo-gradients, EF ← momentum_decay·EF + outer_learning_rate·Δ; the miner compresses EF,
 * then takes away what it sent, EF ← EF − decode(compressed), so what compression dropped this
 * window is sent in a later one.
 */
import type { ParamLayout } from "../../schema/codec/chunking.ts";
import { applyGradient } from "../../schema/codec/decode.ts";
import type { CompressedParam } from "../../schema/codec/gradient-format.ts";
import { sharedFloat32Array } from "./parallel-encode.ts";

export class ErrorFeedback {
  readonly buffer: Float32Array;
  readonly momentumDecay: number;
  readonly outerLearningRate: number;

  constructor(size: number, momentumDecay: number, outerLearningRate: number) {
    // Shared memory: the parallel encoder's threads read the buffer in place instead of copying it.
    this.buffer = sharedFloat32Array(size);
    this.momentumDecay = momentumDecay;
    this.outerLearningRate = outerLearningRate;
  }

  /** EF ← momentum_decay·EF + outer_learning_rate·Δ. */
  accumulate(delta: Float32Array): void {
    const ef = this.buffer;
    if (delta.length !== ef.length) throw new RangeError(`Δ has ${delta.length} values, EF ${ef.length}`);
    const { momentumDecay: decay, outerLearningRate: lr } = this;
    for (let i = 0; i < ef.length; i++) ef[i] = decay * ef[i] + lr * delta[i];
  }

  /** EF ← EF − decode(sent): what was uploaded leaves the buffer. */
  subtractSent(sent: readonly CompressedParam[], layouts: readonly ParamLayout[], useDct: boolean): void {
    // applyGradient computes θ ← θ − lr·decode(g); with lr 1 on EF that is exactly the subtraction.
    applyGradient(this.buffer, sent, layouts, useDct, 1);
  }

  /** Empties the buffer (Templar zeroes it in its null rounds). */
  reset(): void {
    this.buffer.fill(0);
  }
}
