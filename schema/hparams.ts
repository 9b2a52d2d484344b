/**
 * Every protocol number, in one place, with named profiles.
 *
 * The Worker, the gpu-runner and the miner import this file; wrangler vars only pick a profile
 * (`HPARAMS_PROFILE`). Keys are snake_case and keep Templar v2.1.3's names where Templar has the
 * same knob (the table in docs/PROTOCOL.md §6), so the two can be read side by side.
 */
import { FORMAT_VERSIONS, type FormatVersion } from "./codec/format-version.ts";
import { EdgeError } from "./errors.ts";
import { LLAMA_TINY, type LlamaConfig, TEMPLAR_1B, TEMPLAR_72B, TEMPLAR_150M } from "./model/llama.ts";

export interface WindowHparams {
  /** Blocks per window: window W spans blocks [W·bpw, (W+1)·bpw − 1]. */
  readonly blocks_per_window: number;
  /** Expected block time; only for estimates, the clock itself comes from block timestamps. */
  readonly block_time_ms: number;
  /** Length of the put window of S, which opens at the timestamp of block (S+1)·bpw. */
  readonly time_window_delta_seconds: number;
  /** The recorded head is stale once its block is older than this many block times by the Worker's clock. */
  readonly stale_head_blocks: number;
}

export interface CompressionHparams {
  /** Chunks are the largest divisor of each dimension that is <= this (2-D: h×w, 1-D: w). */
  readonly target_chunk: number;
  /** Coordinates kept per chunk (clamped to the chunk size, rounded down to even). */
  readonly topk_compression: number;
  /** Quantization bins; codes are 2-bit, packed four per byte, so at most 4. */
  readonly quantization_bins: number;
  /** scale = range · σ / bins. */
  readonly quantization_range: number;
  /** Orthonormal DCT-II per chunk before top-k. */
  readonly use_dct: boolean;
}

export interface LimitHparams {
  /** Cap on the safetensors header (the JSON after the 8-byte length). */
  readonly max_header_bytes: number;
  /** Cap on a whole gradient file. */
  readonly max_gradient_bytes: number;
  /** Above this a file must come by multipart upload. */
  readonly max_single_upload_bytes: number;
  /** Every multipart part but the last is at least this big (R2's own minimum is 5 MiB). */
  readonly multipart_min_part_bytes: number;
  readonly multipart_max_parts: number;
}

/** The byte-level transformer (gpu-runner/model/transformer.ts): one token per byte. */
export interface ByteModelHparams {
  readonly family: "byte";
  readonly vocab_size: number;
  readonly d_model: number;
  readonly n_layers: number;
  readonly n_heads: number;
  /** Tokens per training and evaluation sample. */
  readonly seq_len: number;
  /** MLP hidden width = mlp_ratio · d_model. */
  readonly mlp_ratio: number;
}

/** A LLaMA (Hugging Face LlamaForCausalLM, schema/model/llama.ts) on a real tokenizer's ids. */
export interface LlamaModelHparams {
  readonly family: "llama";
  readonly config: LlamaConfig;
  /** The tokenizer whose ids the data holds (scripts/data/tokenizer.ts). */
  readonly tokenizer: "llama2" | "gemma3";
  /** Tokens per training and evaluation sample (Templar: 2048). */
  readonly seq_len: number;
  /**
   * Samples per graph run (Templar's validator_sample_micro_bs): a batch of more runs in
   * micro-batches, losses concatenated and gradients averaged, so the logits of a large vocabulary
   * (seq_len × vocab floats a sample) never fill memory.
   */
  readonly micro_batch: number;
  /**
   * A shape to size things by (file sizes, limits, copy-detection cost: `npm run model-sizes`)
   * whose artifacts are not built here: its initial checkpoint alone would be hundreds of GB.
   */
  readonly manifest_only?: true;
}

export type ModelHparams = ByteModelHparams | LlamaModelHparams;

export interface TrainingHparams {
  readonly inner_steps: number;
  /** Sequences per inner step; a miner's pool holds inner_steps · batch_size samples. */
  readonly batch_size: number;
  /** Error-feedback decay: EF = momentum_decay·EF + outer_learning_rate·Δ. */
  readonly momentum_decay: number;
  /** Outer SGD step applied to the aggregate: θ ← θ − outer_learning_rate·g. */
  readonly outer_learning_rate: number;
  /** The miner's inner optimizer, AdamW (torch semantics): learning rate, constant. */
  readonly inner_learning_rate: number;
  readonly inner_beta1: number;
  readonly inner_beta2: number;
  /** Decoupled weight decay (torch AdamW's `weight_decay`). */
  readonly inner_weight_decay: number;
  /** Each inner step's gradient is clipped to this global L2 norm first. */
  readonly inner_grad_clip: number;
}

export interface SyncHparams {
  /** Each submission carries elements [offset, offset+size) of every flattened parameter. */
  readonly param_sample_offset: number;
  readonly param_sample_size: number;
  /** EMA of the global model's per-step change at those elements. */
  readonly step_ema_alpha: number;
  /** sync = (1 − min(x, max)/max)^power with x = steps behind. */
  readonly sync_max_steps: number;
  readonly sync_power: number;
  /** Steps behind above which the sync penalty applies. */
  readonly sync_max_steps_behind: number;
}

export interface EvaluationHparams {
  /** A miner's gradient is applied at outer_learning_rate · eval_lr_factor for evaluation. */
  readonly eval_lr_factor: number;
  readonly own_samples: number;
  readonly random_samples: number;
  /** Submissions per evaluation batch (the unit a runner leases). */
  readonly batch_submissions: number;
  /** A runner beats for its lease when it is granted and then every this many seconds; it also polls for leases at least this often. */
  readonly heartbeat_seconds: number;
  /**
   * A lease expires, and a runner counts as gone, this many heartbeat intervals after its grant
   * or its last beat: a killed runner's batch is leased again within that time.
   */
  readonly missed_heartbeats: number;
  /** Failed or expired leases after which a batch is parked. */
  readonly max_attempts: number;
  /**
   * Held-out samples the loss of each θ_S is measured on (in bits per byte), evenly spaced over
   * the held-out split; a multiple of own_samples (the runner's batch).
   */
  readonly heldout_samples: number;
}

/** How long a lease (and a runner's liveness) lasts after its grant or its last heartbeat: the validator's rule, which runners keep to. */
export function leaseLifeMs(evaluation: EvaluationHparams): number {
  return evaluation.missed_heartbeats * evaluation.heartbeat_seconds * 1000;
}

export interface DataHparams {
  /** The last fraction of the corpus, by bytes, is the held-out split. */
  readonly heldout_fraction: number;
  /** Tokens per shard file. */
  readonly shard_tokens: number;
}

export interface CopyHparams {
  /**
   * Chunks sampled (by the seed block's hash, uniformly over every chunk of every parameter
   * whose chunks are not dense) into each submission's copy fingerprint.
   */
  readonly fingerprint_chunks: number;
  /**
   * Parameters left out of the fingerprint sample. A token embedding's gradient is nonzero only
   * in the rows of the tokens a batch holds, so every honest miner's top-k there sits on the
   * corpus's frequent tokens: where it is most of the model (llama-tiny: 94% of the chunks to
   * sample from), it alone makes honest pairs overlap past the threshold.
   */
  readonly fingerprint_exclude: readonly string[];
  /** Weighted per-chunk top-k index overlap at or above which a pair is flagged. */
  readonly idx_overlap_threshold: number;
  /** Grades: below max → "high"; [max, mega) → "max"; >= mega → "mega". */
  readonly overlap_grade_max: number;
  readonly overlap_grade_mega: number;
  /** Windows a "mega" copier stays banned. */
  readonly ban_windows: number;
}

export interface IntakeHparams {
  /** At most one on-demand metagraph refresh (triggered by an unknown hotkey) per this many seconds. */
  readonly metagraph_refresh_seconds: number;
  /** Gradient format versions the validator accepts (docs/SPEC.md §4.2); miners write the highest they know. */
  readonly format_versions: readonly FormatVersion[];
}

export interface ScoringHparams {
  readonly binary_score_ma_alpha: number;
  readonly openskill_beta: number;
  readonly openskill_tau: number;
  /** Multiplier on final score and BMA for a missing, early or late gradient. */
  readonly missing_gradient_slash: number;
  readonly sync_slash: number;
  readonly inactivity_slash: number;
  readonly reset_inactivity_windows: number;
  /** "high" grade copies: final score and BMA ×this. */
  readonly overlap_high_slash: number;
  readonly score_zero_threshold: number;
  /**
   * ★ The indicator is +1 only when the own samples' per-sample relative improvement beats the
   * random samples' by this many standard errors (Welch's t); 0 is Templar's comparison of means.
   */
  readonly indicator_z: number;
  /** ★ Own-data evidence (docs/SPEC.md §2.5): how fast older windows' statistics are forgotten (λ). */
  readonly evidence_decay: number;
  /** Each window's statistic is clipped to ±this before it is added. */
  readonly evidence_z_clip: number;
  /** Evidence (in standard errors) at and below which the final score is 0. */
  readonly evidence_pay_from: number;
  /** Evidence from which the final score is paid in full; linear between. */
  readonly evidence_pay_full: number;
}

export interface WeightHparams {
  readonly burn_uid: number;
  readonly burn_rate: number;
  readonly gather_peer_count: number;
  readonly gather_share: number;
  readonly gather_top_ratio: number;
  readonly reserve_peer_count: number;
  readonly reserve_decay_ratio: number;
  readonly windows_per_weights: number;
}

export interface Hparams {
  readonly profile: ProfileName;
  readonly window: WindowHparams;
  readonly compression: CompressionHparams;
  readonly limits: LimitHparams;
  readonly intake: IntakeHparams;
  readonly model: ModelHparams;
  readonly training: TrainingHparams;
  readonly sync: SyncHparams;
  readonly evaluation: EvaluationHparams;
  readonly data: DataHparams;
  readonly copy: CopyHparams;
  readonly scoring: ScoringHparams;
  readonly weights: WeightHparams;
}

const MiB = 1024 * 1024;

/** Mainnet-like: Templar v2.1.3's numbers wherever Templar has one. */
const DEFAULT: Hparams = {
  profile: "default",
  // Stale after 10 blocks (2 min): the cron reads the head once a minute, so a healthy head is up
  // to a tick and a block old; two missed ticks are a stall, not jitter.
  window: { blocks_per_window: 125, block_time_ms: 12_000, time_window_delta_seconds: 70, stale_head_blocks: 10 },
  compression: {
    target_chunk: 64,
    topk_compression: 64,
    quantization_bins: 4,
    quantization_range: 6,
    use_dct: false,
  },
  limits: {
    max_header_bytes: 1 * MiB,
    max_gradient_bytes: 512 * MiB,
    max_single_upload_bytes: 64 * MiB,
    multipart_min_part_bytes: 5 * MiB,
    multipart_max_parts: 1000,
  },
  intake: { metagraph_refresh_seconds: 12, format_versions: FORMAT_VERSIONS },
  model: { family: "byte", vocab_size: 256, d_model: 256, n_layers: 6, n_heads: 8, seq_len: 256, mlp_ratio: 4 },
  training: {
    inner_steps: 30,
    batch_size: 16,
    momentum_decay: 0.95,
    outer_learning_rate: 1.0,
    inner_learning_rate: 1.3e-4,
    inner_beta1: 0.9,
    inner_beta2: 0.95,
    inner_weight_decay: 0.1,
    inner_grad_clip: 1.0,
  },
  sync: {
    param_sample_offset: 10,
    param_sample_size: 2,
    step_ema_alpha: 0.2,
    sync_max_steps: 5,
    sync_power: 2.5,
    sync_max_steps_behind: 3,
  },
  // Own and random samples: 32 of 256 tokens a side (Templar evaluates 8 of 2048). The own-data
  // evidence tells honest miners from wrong-data trainers in 99% of windows from 4096 tokens a
  // side in samples of 128 (measured: docs/SPEC.md §2.5); twice that here, since the tokens of
  // one longer sample are not independent.
  evaluation: {
    eval_lr_factor: 0.2,
    own_samples: 32,
    random_samples: 32,
    batch_submissions: 8,
    heartbeat_seconds: 30,
    missed_heartbeats: 2,
    max_attempts: 3,
    heldout_samples: 256,
  },
  data: { heldout_fraction: 0.1, shard_tokens: 1 * MiB },
  copy: {
    fingerprint_chunks: 64,
    fingerprint_exclude: [],
    idx_overlap_threshold: 0.4,
    overlap_grade_max: 0.5,
    overlap_grade_mega: 0.6,
    ban_windows: 200,
  },
  scoring: {
    binary_score_ma_alpha: 0.05,
    openskill_beta: 7,
    openskill_tau: 0.1,
    missing_gradient_slash: 0.75,
    sync_slash: 0.75,
    inactivity_slash: 0.75,
    reset_inactivity_windows: 3,
    overlap_high_slash: 0.5,
    score_zero_threshold: 1e-4,
    indicator_z: 2,
    evidence_decay: 0.9,
    evidence_z_clip: 5,
    evidence_pay_from: 3.5,
    evidence_pay_full: 8,
  },
  weights: {
    burn_uid: 1,
    burn_rate: 0.5,
    gather_peer_count: 20,
    gather_share: 0.75,
    gather_top_ratio: 2.0,
    reserve_peer_count: 10,
    reserve_decay_ratio: 0.5,
    windows_per_weights: 2,
  },
};

/** Small and fast: a window of about a minute, a put window of 18 s, a ~0.7M-parameter model. */
const LOCAL: Hparams = {
  ...DEFAULT,
  profile: "local",
  // 20 blocks of 3 s: the local pacer builds one block per 3 s slot (docs/LOCAL_CHAIN.md §7).
  // Stale after 5 blocks (15 s): `npm start` ticks every few seconds, so a healthy head is under
  // ~6 s old; 15 s is a stall, and still well inside the 18 s put window.
  window: { blocks_per_window: 20, block_time_ms: 3_000, time_window_delta_seconds: 18, stale_head_blocks: 5 },
  limits: {
    ...DEFAULT.limits,
    max_header_bytes: 256 * 1024,
    max_gradient_bytes: 64 * MiB,
    max_single_upload_bytes: 8 * MiB,
  },
  model: { family: "byte", vocab_size: 256, d_model: 128, n_layers: 3, n_heads: 4, seq_len: 128, mlp_ratio: 4 },
  intake: { ...DEFAULT.intake, metagraph_refresh_seconds: 3 },
  // inner_learning_rate by measurement: 4 honest miners from θ_0 take the held-out loss from 8.0 to
  // ≈4.0 bpb in 12 windows, their own samples improving more than random ones in most evaluations.
  // From 1.5e-3 up, a fresh AdamW (a miner's first window) often ends its 4 steps above where it
  // started (no warmup), at θ_0 and on a trained model alike.
  training: { ...DEFAULT.training, inner_steps: 4, batch_size: 16, inner_learning_rate: 1e-3 },
  // Own samples: the miner's whole pool (inner_steps · batch_size), so the indicator sees everything it trained on.
  evaluation: {
    ...DEFAULT.evaluation,
    own_samples: 64,
    random_samples: 64,
    batch_submissions: 4,
    heartbeat_seconds: 5,
    heldout_samples: 64,
  },
};

/** LOCAL's windows and pacing on llama-tiny (2.1M parameters, LLaMA-2's 32K tokenizer). */
const LLAMA_TINY_PROFILE: Hparams = {
  ...LOCAL,
  profile: "llama-tiny",
  model: { family: "llama", config: LLAMA_TINY, tokenizer: "llama2", seq_len: 128, micro_batch: 8 },
  // The token embedding is 94% of the chunks llama-tiny samples from; with it sampled, 4 honest
  // miners made a pair at 0.41–0.57 overlap in each of 4 windows (on the embedding up to 0.58,
  // elsewhere at most 0.28); without it, at most 0.21.
  copy: { ...LOCAL.copy, fingerprint_exclude: ["model.embed_tokens.weight"] },
};

/**
 * Templar's numbers (hparams.json) on Templar's model shapes: 2048-token samples, 8 samples a
 * side per evaluation (validator_sample_micro_bs), 30 inner steps of 192 samples, outer lr 0.4,
 * AdamW at 1.17e-4. Gradient limits fit each shape's file (`npm run model-sizes` prints both).
 */
function templarProfile(
  profile: "templar-150m" | "templar-1b" | "templar-72b",
  model: LlamaModelHparams,
  maxGradientBytes: number,
): Hparams {
  return {
    ...DEFAULT,
    profile,
    model,
    limits: { ...DEFAULT.limits, max_gradient_bytes: maxGradientBytes },
    training: {
      ...DEFAULT.training,
      inner_steps: 30,
      batch_size: 192,
      outer_learning_rate: 0.4,
      inner_learning_rate: 1.17e-4,
    },
    evaluation: { ...DEFAULT.evaluation, own_samples: 8, random_samples: 8, heldout_samples: 64 },
  };
}

const GiB = 1024 * MiB;

export const PROFILES = {
  default: DEFAULT,
  local: LOCAL,
  "llama-tiny": LLAMA_TINY_PROFILE,
  "templar-150m": templarProfile(
    "templar-150m",
    { family: "llama", config: TEMPLAR_150M, tokenizer: "llama2", seq_len: 2048, micro_batch: 1 },
    64 * MiB,
  ),
  "templar-1b": templarProfile(
    "templar-1b",
    { family: "llama", config: TEMPLAR_1B, tokenizer: "llama2", seq_len: 2048, micro_batch: 1 },
    128 * MiB,
  ),
  "templar-72b": templarProfile(
    "templar-72b",
    { family: "llama", config: TEMPLAR_72B, tokenizer: "gemma3", seq_len: 2048, micro_batch: 1, manifest_only: true },
    3 * GiB,
  ),
} as const;
export type ProfileName = keyof typeof PROFILES;

/** The hparams of a named profile; an unknown name is a CONFIG_INVALID error. */
export function getHparams(profile: string): Hparams {
  if (!Object.hasOwn(PROFILES, profile)) {
    throw new EdgeError(
      "CONFIG_INVALID",
      `unknown hparams profile "${profile}" (known: ${Object.keys(PROFILES).join(", ")})`,
    );
  }
  return PROFILES[profile as ProfileName];
}
