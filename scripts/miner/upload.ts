/**
 * Signing and sending a gradient file (docs/SPEC.md §5): the hotkey signs
 * `templar-edge/v1/gradient|netuid|window|uid|sha256|size`; a file up to max_single_upload_bytes
 * goes in one PUT, a larger one by multipart (create, parts, complete). A refusal comes back as
 * its EdgeError code and message from the JSON error body, never as an exception.
 *
 * `uploadWithRetry` rides out a validator fault (docs/SPEC.md, "Retries"): a transient failure
 * is retried with backoff, freshly signed, only while the put window is open; a retry refused as
 * a duplicate is a success when the validator shows the same file received.
 */
import { createHash } from "node:crypto";
import type { SubmissionJson } from "../../schema/api/public.ts";
import { isTransient, isTransientAnswer, type RetryOptions, withRetry } from "../../schema/api/retry.ts";
import type { LimitHparams } from "../../schema/hparams.ts";
import type { HotkeySigner } from "../../schema/keys/hotkey-signer.ts";
import { signedMessage } from "../../schema/upload/upload-claim.ts";

export interface UploadTarget {
  readonly url: string;
  readonly netuid: number;
  readonly window: number;
  readonly uid: number;
}

export type UploadOutcome =
  | { readonly accepted: true; readonly status: number; readonly submission: SubmissionJson }
  | { readonly accepted: false; readonly status: number; readonly code: string; readonly message: string };

/** The upload headers every request of one upload carries. */
export function signedHeaders(signer: HotkeySigner, target: UploadTarget, file: Uint8Array): Record<string, string> {
  const sha256 = createHash("sha256").update(file).digest("hex");
  const message = signedMessage({ ...target, sha256, size: file.length });
  return {
    "X-Templar-Hotkey": signer.address,
    "X-Templar-Sha256": sha256,
    "X-Templar-Signature": `0x${Buffer.from(signer.sign(message)).toString("hex")}`,
  };
}

/** A refusal from an error response's JSON body (`{"error": {"code", "message"}}`). */
async function refusal(res: Response): Promise<UploadOutcome> {
  const text = await res.text();
  let error: { code?: string; message?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
  } catch {
    // not JSON: a proxy's or the runtime's page
  }
  return {
    accepted: false,
    status: res.status,
    code: error?.code ?? `HTTP_${res.status}`,
    message: error?.message ?? text.slice(0, 200),
  };
}

/** How long one request of an upload may take before it counts as failed (and may be retried). */
const UPLOAD_TIMEOUT_MS = 5 * 60_000;

/** Signs and uploads `file` for (window, uid): one PUT, or multipart above the single-upload limit. */
export async function uploadGradient(
  signer: HotkeySigner,
  target: UploadTarget,
  file: Uint8Array,
  limits: LimitHparams,
): Promise<UploadOutcome> {
  const headers = signedHeaders(signer, target, file);
  if (file.length <= limits.max_single_upload_bytes) return putGradient(target, headers, file);
  return multipartUpload(gradientUrl(target), headers, file, limits);
}

/** The URL of (window, uid)'s gradient. */
function gradientUrl(target: UploadTarget): string {
  return `${target.url.replace(/\/$/, "")}/v1/gradients/${target.window}/${target.uid}`;
}

/** Sends `file` in one PUT with its signed headers (docs/SPEC.md §5.4). */
export async function putGradient(
  target: UploadTarget,
  headers: Record<string, string>,
  file: Uint8Array,
): Promise<UploadOutcome> {
  const res = await fetch(gradientUrl(target), {
    method: "PUT",
    body: file,
    headers: { ...headers, "Content-Length": String(file.length) },
    signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
  });
  if (res.status !== 202) return refusal(res);
  return {
    accepted: true,
    status: res.status,
    submission: ((await res.json()) as { submission: SubmissionJson }).submission,
  };
}

async function multipartUpload(
  base: string,
  headers: Record<string, string>,
  file: Uint8Array,
  limits: LimitHparams,
): Promise<UploadOutcome> {
  const created = await fetch(`${base}/multipart`, {
    method: "POST",
    headers: { ...headers, "X-Templar-Size": String(file.length) },
    signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
  });
  if (created.status !== 201) return refusal(created);
  const { upload_id: uploadId } = (await created.json()) as { upload_id: string };
  const session = `${base}/multipart/${encodeURIComponent(uploadId)}`;
  const auth = {
    "X-Templar-Hotkey": headers["X-Templar-Hotkey"] as string,
    "X-Templar-Signature": headers["X-Templar-Signature"] as string,
  };
  // Parts as large as needed to stay within max_parts, never below the minimum part size.
  const partBytes = Math.max(limits.multipart_min_part_bytes, Math.ceil(file.length / limits.multipart_max_parts));
  const parts: { part_number: number; etag: string }[] = [];
  for (let at = 0, n = 1; at < file.length; at += partBytes, n++) {
    const body = file.subarray(at, at + partBytes);
    const res = await fetch(`${session}/parts/${n}`, {
      method: "PUT",
      body,
      headers: { ...auth, "Content-Length": String(body.length) },
      signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
    });
    if (res.status !== 200) {
      const out = await refusal(res);
      await fetch(session, { method: "DELETE", headers: auth }).catch(() => {});
      return out;
    }
    parts.push({ part_number: n, etag: ((await res.json()) as { etag: string }).etag });
  }
  const done = await fetch(`${session}/complete`, {
    method: "POST",
    body: JSON.stringify({ parts }),
    headers: { ...auth, "Content-Type": "application/json" },
    signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
  });
  if (done.status !== 202) return refusal(done);
  return {
    accepted: true,
    status: done.status,
    submission: ((await done.json()) as { submission: SubmissionJson }).submission,
  };
}

/** Refusals a retry gets when an earlier try of the same upload landed after all. */
const DUPLICATE_CODES = new Set(["SUBMISSION_EXISTS", "SIGNATURE_REPLAYED"]);

/** A transient refusal, thrown so that withRetry tries again. */
class TransientRefusal extends Error {
  readonly outcome: UploadOutcome;
  constructor(outcome: UploadOutcome & { accepted: false }) {
    super(`${outcome.status} ${outcome.code}: ${outcome.message}`);
    this.outcome = outcome;
  }
}

/** (window, uid)'s submission if it is `file`, received; undefined otherwise. */
async function landed(target: UploadTarget, file: Uint8Array): Promise<SubmissionJson | undefined> {
  const sha256 = createHash("sha256").update(file).digest("hex");
  const res = await fetch(`${target.url.replace(/\/$/, "")}/v1/submissions/${target.window}/${target.uid}`, {
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) return undefined;
  const { submission } = (await res.json()) as { submission: SubmissionJson };
  return submission.sha256 === sha256 ? submission : undefined;
}

/**
 * `uploadGradient`, retried with backoff on transient failures (no answer, 5xx, RATE_LIMITED)
 * until `untilMs`, the put window's close as the validator reported it; each try is signed
 * anew, so a retry is never a replayed signature. A refusal (4xx) is returned at once, except a
 * retry's SUBMISSION_EXISTS or SIGNATURE_REPLAYED when the validator holds this very file: an
 * earlier try landed, and that is success. Throws the last failure when no answer came in time.
 */
export async function uploadWithRetry(
  signer: HotkeySigner,
  target: UploadTarget,
  file: Uint8Array,
  limits: LimitHparams,
  retry: Pick<RetryOptions, "untilMs" | "onRetry" | "backoff"> = {},
): Promise<UploadOutcome> {
  try {
    return await withRetry(
      async (attempt) => {
        const out = await uploadGradient(signer, target, file, limits);
        if (out.accepted) return out;
        if (attempt > 0 && DUPLICATE_CODES.has(out.code)) {
          const submission = await landed(target, file);
          if (submission) return { accepted: true, status: 202, submission } as const;
        }
        if (isTransientAnswer(out.status, out.code)) throw new TransientRefusal(out);
        return out;
      },
      { ...retry, retryable: (e) => e instanceof TransientRefusal || isTransient(e) },
    );
  } catch (e) {
    if (e instanceof TransientRefusal) return e.outcome;
    throw e;
  }
}
