/** The JSON shapes of the public API (docs/SPEC.md §7): snake_case, times in Unix ms. */
import type { EvaluationJson, PutWindowJson, RefusalJson, SubmissionJson } from "../../schema/api/public.ts";
import type { MultipartCreatedJson } from "../../schema/api/responses.ts";
import type { evaluations } from "../../schema/db/index.ts";
import type { LimitHparams } from "../../schema/hparams.ts";
import type { PutWindow } from "../../schema/windows/window-math.ts";
import type { CreatedSession } from "../intake/multipart-upload.ts";
import type { RefusalRow, SubmissionRow } from "../intake/submission-records.ts";

/** A submission with its verdict. */
export function submissionJson(s: SubmissionRow): SubmissionJson {
  return {
    window: s.window,
    uid: s.uid,
    hotkey: s.hotkey,
    status: s.status,
    error: s.errorCode ? { code: s.errorCode, message: s.errorMessage ?? "" } : null,
    received_at_ms: s.receivedAtMs,
    multipart_created_at_ms: s.multipartCreatedAtMs,
    size_bytes: s.sizeBytes,
    sha256: s.sha256,
    object_key: s.objectKey,
    validated_at_ms: s.validatedAtMs,
    format_version: s.formatVersion,
  };
}

/** A refused upload attempt. */
export function refusalJson(r: RefusalRow): RefusalJson {
  return { window: r.window, code: r.code, message: r.message, received_at_ms: r.receivedAtMs };
}

/** A put window and where `nowMs` stands against it. */
export function putWindowJson(p: PutWindow, nowMs: number): PutWindowJson {
  return {
    window: p.window,
    opens_at_ms: p.opensAtMs,
    closes_at_ms: p.closesAtMs,
    state: nowMs < p.opensAtMs ? "pending" : nowMs <= p.closesAtMs ? "open" : "closed",
  };
}

/** A recorded evaluation: every figure, the seeds and samples, the reference's uids, who measured it and how long it took. */
export function evaluationJson(e: typeof evaluations.$inferSelect, referenceUids: number[]): EvaluationJson {
  return {
    submission_id: e.submissionId,
    window: e.window,
    uid: e.uid,
    batch_id: e.batchId,
    runner_id: e.runnerId,
    error: e.errorCode ? { code: e.errorCode, message: e.errorMessage ?? "" } : null,
    loss_before_own: e.lossBeforeOwn,
    loss_after_own: e.lossAfterOwn,
    loss_before_random: e.lossBeforeRandom,
    loss_after_random: e.lossAfterRandom,
    sample_losses: e.sampleLosses ?? null,
    own_seed: e.ownSeed,
    random_seed: e.randomSeed,
    own_samples: e.ownSamples,
    random_samples: e.randomSamples,
    eval_lr: e.evalLr,
    reference_uids: referenceUids,
    decode_ms: e.decodeMs,
    apply_ms: e.applyMs,
    forward_ms: e.forwardMs,
    restore_ms: e.restoreMs,
    total_ms: e.totalMs,
    created_at_ms: e.createdAtMs,
  };
}

/** A new multipart session: its id and the part rules of the hparams' limits. */
export function multipartCreatedJson(
  created: CreatedSession,
  limits: Pick<LimitHparams, "multipart_min_part_bytes" | "multipart_max_parts">,
): MultipartCreatedJson {
  return {
    upload_id: created.uploadId,
    part_min_bytes: limits.multipart_min_part_bytes,
    max_parts: limits.multipart_max_parts,
    created_at_ms: created.createdAtMs,
  };
}
