/**
 * A single-request upload (docs/SPEC.md §5.4): authorize, stream the body into R2 while hashing
 * it, judge the receipt time, then record the submission and queue its validation. On any
 * refusal after the body was stored, the stored object is deleted: nothing is kept.
 */
import { EdgeError } from "../../schema/errors.ts";
import type { WorkerContext } from "../context.ts";
import { assertInPutWindow, authorizeUpload, recorded } from "./authorize-upload.ts";
import { gradientObjectKey, insertSubmission, queueValidation, type SubmissionRow } from "./submission-records.ts";
import type { UploadClaim } from "./upload-claim.ts";

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Streams `body` into R2 at `key`, hashing it on the way; resolves when the last byte has been
 * read and stored, with the SHA-256 and the Worker-clock time of that last byte.
 */
async function storeWhileHashing(
  ctx: WorkerContext,
  key: string,
  body: ReadableStream<Uint8Array>,
  size: number,
): Promise<{ sha256: string; receivedAtMs: number }> {
  const fixed = new FixedLengthStream(size);
  const digest = new crypto.DigestStream("SHA-256");
  const stored = ctx.gradients.put(key, fixed.readable);
  stored.catch(() => {}); // awaited below; a short body rejects it before then
  const out = fixed.writable.getWriter();
  const hash = digest.getWriter();
  const reader = body.getReader();
  let received = 0;
  let receivedAtMs = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > size) throw new EdgeError("SIZE_MISMATCH", `the body is longer than the signed size ${size}`);
      await Promise.all([out.write(value), hash.write(value)]);
    }
    receivedAtMs = ctx.now();
    if (received !== size)
      throw new EdgeError("SIZE_MISMATCH", `the body has ${received} bytes, the signed size is ${size}`);
    await Promise.all([out.close(), hash.close()]);
    await stored;
  } catch (e) {
    await Promise.allSettled([out.abort(e), hash.abort(e), reader.cancel(e)]);
    await ctx.gradients.delete(key);
    throw e instanceof EdgeError
      ? e
      : new EdgeError("SIZE_MISMATCH", `the body could not be read in full: ${String(e)}`);
  }
  return { sha256: toHex(await digest.digest), receivedAtMs };
}

/** Accepts a single-request upload or throws a coded refusal. */
export async function acceptSingleUpload(
  ctx: WorkerContext,
  claim: UploadClaim,
  body: ReadableStream<Uint8Array> | null,
): Promise<SubmissionRow> {
  await authorizeUpload(ctx, claim, false);
  return recorded(ctx, claim, async () => {
    const key = gradientObjectKey(ctx.config.netuid, claim.window, claim.uid);
    const { sha256, receivedAtMs } = await storeWhileHashing(ctx, key, body ?? new Blob([]).stream(), claim.size);
    let submission: SubmissionRow;
    try {
      if (sha256 !== claim.sha256) {
        throw new EdgeError(
          "SHA256_MISMATCH",
          `the stored bytes hash to ${sha256}, the signed sha256 is ${claim.sha256}`,
        );
      }
      await assertInPutWindow(ctx, claim.window, receivedAtMs);
      submission = await insertSubmission(ctx.db, {
        window: claim.window,
        uid: claim.uid,
        hotkey: claim.hotkey,
        objectKey: key,
        sizeBytes: claim.size,
        sha256,
        receivedAtMs,
        signature: claim.signature,
      });
    } catch (e) {
      await ctx.gradients.delete(key);
      throw e;
    }
    await queueValidation(ctx, submission);
    return submission;
  });
}
