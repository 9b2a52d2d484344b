/**
 * Signing and sending a gradient file (docs/SPEC.md §5): the hotkey signs
 * `templar-edge/v1/gradient|netuid|window|uid|sha256|size`; a file up to max_single_upload_bytes
 * goes in one PUT, a larger one by multipart (create, parts, complete). A refusal comes back as
 * its EdgeError code and message from the JSON error body, never as an exception.
 */
import { createHash } from "node:crypto";
import type { SubmissionJson } from "../../schema/api/public.ts";
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
  });
  if (done.status !== 202) return refusal(done);
  return {
    accepted: true,
    status: done.status,
    submission: ((await done.json()) as { submission: SubmissionJson }).submission,
  };
}
