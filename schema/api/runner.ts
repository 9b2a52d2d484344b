/**
 * The runner API's documents (docs/SPEC.md, "Runners"): what a lease hands a runner, and what
 * it posts back. Shared by the Worker that serves them and the gpu-runner that consumes them.
 */
import type { Draw } from "../sampling/assignment.ts";

export interface WorkItem {
  readonly submission_id: number;
  readonly uid: number;
  readonly hotkey: string;
  readonly sha256: string;
  readonly size_bytes: number;
  readonly gradient_url: string;
  readonly own: Draw;
}

export interface WorkOrder {
  readonly lease: {
    readonly id: number;
    readonly batch_id: number;
    readonly window: number;
    readonly expires_at_ms: number;
  };
  readonly netuid: number;
  /** θ_S: the checkpoint the window's miners trained from. */
  readonly checkpoint: { readonly window: number; readonly url: string };
  /** outer_learning_rate · eval_lr_factor. */
  readonly eval_lr: number;
  readonly random: Draw;
  readonly submissions: readonly WorkItem[];
}

/** One submission's outcome as a runner reports it: the four losses, or an error with its code. */
export interface EvaluationResult {
  readonly submission_id: number;
  readonly loss_before_own?: number;
  readonly loss_after_own?: number;
  readonly loss_before_random?: number;
  readonly loss_after_random?: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly decode_ms?: number;
  readonly apply_ms?: number;
  readonly forward_ms?: number;
  readonly restore_ms?: number;
  readonly total_ms?: number;
}
