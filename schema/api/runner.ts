/**
 * The runner API's documents (docs/SPEC.md, "Runners"): what a lease hands a runner, and what
 * it posts back. Shared by the Worker that serves them and the gpu-runner that consumes them.
 */
import type { Draw } from "../sampling/assignment.ts";

// What a runner posts back is defined by the schemas the Worker validates it with.
export type { AdvanceResult, EvaluationResult, SampleLossesJson } from "./runner-requests.ts";

export interface WorkItem {
  readonly submission_id: number;
  readonly uid: number;
  readonly hotkey: string;
  readonly sha256: string;
  readonly size_bytes: number;
  readonly gradient_url: string;
  readonly own: Draw;
}

export interface LeaseRef {
  readonly id: number;
  readonly batch_id: number;
  readonly window: number;
  readonly expires_at_ms: number;
}

/** Evaluate a batch of window S's submissions on θ_S. */
export interface WorkOrder {
  readonly kind: "evaluate";
  readonly lease: LeaseRef;
  readonly netuid: number;
  /** θ_S: the checkpoint the window's miners trained from. */
  readonly checkpoint: { readonly window: number; readonly url: string };
  /** outer_learning_rate · eval_lr_factor. */
  readonly eval_lr: number;
  readonly random: Draw;
  readonly submissions: readonly WorkItem[];
  /**
   * ★ The window's reference step: every valid, non-copied submission of the window (those of
   * every batch), aggregated as the outer step aggregates peers and applied at eval_lr. Each
   * submission's own samples, and the random ones, are measured after it too (docs/SPEC.md §2.4).
   */
  readonly reference: readonly AdvancePeer[];
}

/** One peer submission of an outer step. */
export interface AdvancePeer {
  readonly submission_id: number;
  readonly uid: number;
  readonly hotkey: string;
  readonly sha256: string;
  readonly gradient_url: string;
}

/**
 * Apply window S's outer step: aggregate the peers' gradients (lower-median norm clip,
 * scatter-mean), θ_{S+1} = θ_S − outer_lr · aggregate; measure the held-out loss of θ_S and
 * θ_{S+1}; upload the checkpoint and the aggregate (PUT …/artifacts/checkpoint|aggregate), then
 * post the result.
 */
export interface AdvanceOrder {
  readonly kind: "advance";
  readonly lease: LeaseRef;
  readonly netuid: number;
  readonly checkpoint: { readonly window: number; readonly url: string; readonly global_step: number };
  /** The window θ_{S+1} is for (S+1). */
  readonly next_window: number;
  readonly outer_lr: number;
  /** "unrated": genesis, nobody rated positive yet (peers: the gradients that improved the random samples' loss). */
  readonly peer_mode: "rated" | "unrated";
  readonly peers: readonly AdvancePeer[];
  /** Held-out sample ids (the `heldout` split) both losses are measured on. */
  readonly heldout: readonly number[];
}

/** Whatever a lease hands out. */
export type LeaseOrder = WorkOrder | AdvanceOrder;
