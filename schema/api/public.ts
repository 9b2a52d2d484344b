/** Documents of the public API (docs/SPEC.md §7), as the Worker serves them and clients read them. */

export interface ErrorJson {
  readonly code: string;
  readonly message: string;
}

export interface SubmissionJson {
  readonly window: number;
  readonly uid: number;
  readonly hotkey: string;
  readonly status: "received" | "valid" | "invalid" | "copied";
  readonly error: ErrorJson | null;
  readonly received_at_ms: number;
  readonly multipart_created_at_ms: number | null;
  readonly size_bytes: number;
  readonly sha256: string;
  readonly object_key: string;
  readonly validated_at_ms: number | null;
}

export interface RefusalJson {
  readonly window: number;
  readonly code: string;
  readonly message: string;
  readonly received_at_ms: number;
}

export interface PutWindowJson {
  readonly window: number;
  readonly opens_at_ms: number;
  readonly closes_at_ms: number;
  readonly state: "pending" | "open" | "closed";
}

export interface EvaluationJson {
  readonly submission_id: number;
  readonly window: number;
  readonly uid: number;
  readonly batch_id: number;
  readonly runner_id: string;
  readonly error: ErrorJson | null;
  readonly loss_before_own: number | null;
  readonly loss_after_own: number | null;
  readonly loss_before_random: number | null;
  readonly loss_after_random: number | null;
  readonly own_seed: string | null;
  readonly random_seed: string | null;
  readonly own_samples: number[] | null;
  readonly random_samples: number[] | null;
  readonly eval_lr: number | null;
  readonly decode_ms: number | null;
  readonly apply_ms: number | null;
  readonly forward_ms: number | null;
  readonly restore_ms: number | null;
  readonly total_ms: number | null;
  readonly created_at_ms: number;
}
