/**
 * What `npm run simulate -- --json FILE` writes: per seed, per window (numbered from 1), the
 * held-out bits per byte before and after the window's outer step, and per uid its persona, its
 * share of the weight set in force after the window's scoring (burn included: all shares sum to
 * 1), whether its gradient went into θ_{S+1}, its final score and the evidence behind it.
 */
import type { SampleLosses } from "../../schema/scoring/gradient-score.ts";

/** What the scoring saw of a uid in a window: its score line's figures. */
export interface UidEvidence {
  readonly outcome: string;
  readonly code: string | null;
  readonly gradient_score: number | null;
  readonly own_improvement: number | null;
  readonly random_improvement: number | null;
  readonly indicator_t: number | null;
  readonly indicator: number | null;
  readonly bma: number;
  /** ★ The own-data evidence after the window (standard errors) and the share of the final score it earns. */
  readonly evidence: number;
  readonly pay_factor: number;
  readonly ordinal: number | null;
  readonly sync_score: number | null;
  readonly penalties: readonly string[];
}

export interface UidRecord {
  readonly uid: number;
  /** The miner's persona; "burn" for the burn uid. */
  readonly persona: string;
  readonly weight: number;
  readonly peer: boolean;
  readonly final_score: number;
  readonly evidence: UidEvidence | null;
  /** Per-sample losses of its evaluation (with --samples). */
  readonly sample_losses?: SampleLosses;
}

export interface WindowRecord {
  readonly window: number;
  readonly heldout_bpb_before: number;
  readonly heldout_bpb_after: number;
  /** How the outer step's peers were chosen: by rating, or before anyone was rated. */
  readonly peer_mode: string;
  readonly uids: readonly UidRecord[];
}

export interface SeedResult {
  readonly seed: number;
  readonly windows: readonly WindowRecord[];
}

export interface SimulationResult {
  readonly profile: string;
  readonly lineup: readonly string[];
  readonly wall_seconds: number;
  readonly seeds: readonly SeedResult[];
}
