/**
 * A single-request upload (docs/SPEC.md §5.4): verify the signature, then pipe the body into R2
 * with the signed SHA-256 as the object's checksum (R2 refuses to store bytes that do not match
 * it) while D1 is asked whether the miner may upload (registration, replay, limits, window); judge
 * the receipt time, then record the submission and queue its validation. On any refusal the
 * transfer is aborted and whatever was stored is deleted: nothing is kept.
 */
import { EdgeError } from "../../schema/errors.ts";
import { type UploadClaim, verifyClaim } from "../../schema/upload/upload-claim.ts";
import type { PutWindow } from "../../schema/windows/window-math.ts";
import type { WorkerContext } from "../context.ts";
import { log } from "../logging/log.ts";
import { assertInPutWindow, assertWithinLimits, checkUploadState, recorded } from "./authorize-upload.ts";
import { gradientObjectKey, insertSubmission, queueValidation, type SubmissionRow } from "./submission-records.ts";

/** R2's refusal of a body whose checksum differs from the one given (code 10037, BadDigest). */
function isChecksumMismatch(e: unknown): boolean {
  return /checksum|BadDigest|10037/i.test(String((e as Error)?.message ?? e));
}

/**
 * Streams `body` into R2 at `key`, R2 checking the claimed SHA-256; resolves with the Worker-clock
 * time at which the last byte was read, once the object is stored.
 */
async function storeChecked(
  ctx: WorkerContext,
  key: string,
  body: ReadableStream<Uint8Array>,
  claim: UploadClaim,
  signal: AbortSignal,
): Promise<number> {
  const fixed = new FixedLengthStream(claim.size);
  const stored = ctx.gradients.put(key, fixed.readable, { sha256: claim.sha256 });
  stored.catch(() => {}); // awaited below; a short or long body rejects it first
  try {
    await body.pipeTo(fixed.writable, { signal });
  } catch (e) {
    await ctx.gradients.delete(key);
    throw new EdgeError("SIZE_MISMATCH", `the body is not the signed ${claim.size} bytes`, undefined, { cause: e });
  }
  const receivedAtMs = ctx.now();
  try {
    await stored;
  } catch (e) {
    await ctx.gradients.delete(key);
    if (isChecksumMismatch(e))
      throw new EdgeError("SHA256_MISMATCH", `the stored bytes do not hash to the signed sha256 ${claim.sha256}`);
    throw e;
  }
  return receivedAtMs;
}

/** Accepts a single-request upload or throws a coded refusal. */
export async function acceptSingleUpload(
  ctx: WorkerContext,
  claim: UploadClaim,
  body: ReadableStream<Uint8Array> | null,
): Promise<SubmissionRow> {
  // Forgeries and oversize claims are refused before a byte is read.
  verifyClaim(claim);
  await recorded(ctx, claim, async () => assertWithinLimits(claim, ctx.config.hparams.limits, false));
  const key = gradientObjectKey(ctx.config.netuid, claim.window, claim.uid);
  const transfer = new AbortController();
  const storing = storeChecked(ctx, key, body ?? new Blob([]).stream(), claim, transfer.signal);
  storing.catch(() => {}); // awaited below, once the checks have passed
  let known: PutWindow | null;
  try {
    known = await checkUploadState(ctx, claim);
  } catch (e) {
    transfer.abort();
    await storing.catch(() => {});
    await ctx.gradients.delete(key);
    throw e;
  }
  return recorded(ctx, claim, async () => {
    const receivedAtMs = await storing;
    let submission: SubmissionRow;
    try {
      await assertInPutWindow(ctx, claim.window, receivedAtMs, known);
      submission = await insertSubmission(ctx.db, {
        window: claim.window,
        uid: claim.uid,
        hotkey: claim.hotkey,
        objectKey: key,
        sizeBytes: claim.size,
        sha256: claim.sha256,
        receivedAtMs,
        signature: claim.signature,
      });
    } catch (e) {
      await ctx.gradients.delete(key);
      throw e;
    }
    ctx.defer(queueValidation(ctx, submission));
    log.info("upload.accepted", {
      window: submission.window,
      uid: submission.uid,
      submission_id: submission.id,
      size_bytes: submission.sizeBytes,
      multipart: false,
    });
    return submission;
  });
}
