/** The JSON shapes of the public API (docs/SPEC.md §7): snake_case, times in Unix ms. */
import type { PutWindow } from "../clock/window-math.ts";
import type { RefusalRow, SubmissionRow } from "../intake/submission-records.ts";

/** A submission with its verdict. */
export function submissionJson(s: SubmissionRow) {
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
  };
}

/** A refused upload attempt. */
export function refusalJson(r: RefusalRow) {
  return { window: r.window, code: r.code, message: r.message, received_at_ms: r.receivedAtMs };
}

/** A put window and where `nowMs` stands against it. */
export function putWindowJson(p: PutWindow, nowMs: number) {
  return {
    window: p.window,
    opens_at_ms: p.opensAtMs,
    closes_at_ms: p.closesAtMs,
    state: nowMs < p.opensAtMs ? "pending" : nowMs <= p.closesAtMs ? "open" : "closed",
  };
}
