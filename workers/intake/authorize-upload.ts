/**
 * The checks every upload passes before any byte of it is stored: signature, registration,
 * replay, size limits, and whether its put window has already closed. Refusals of a miner whose
 * signature verified are recorded; unsigned or forged requests are not (they prove nothing about
 * who sent them, and recording them would let anyone fill the table).
 */
import { EdgeError } from "../../schema/errors.ts";
import { certainlyClosed, judgeReceipt, windowOfBlock } from "../clock/window-math.ts";
import type { WorkerContext } from "../context.ts";
import { resolveHotkey } from "../metagraph/metagraph.ts";
import { findSubmission, recordRefusal, signatureUsed } from "./submission-records.ts";
import { type UploadClaim, verifyClaim } from "./upload-claim.ts";

/** Runs `step`; a refusal it throws is recorded against the (authenticated) uploader first. */
export async function recorded<T>(
  ctx: WorkerContext,
  who: { window: number; uid: number; hotkey: string },
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof EdgeError && e.status < 500) {
      await recordRefusal(ctx.db, { window: who.window, uid: who.uid, hotkey: who.hotkey }, e, ctx.now());
    }
    throw e;
  }
}

/** Throws UPLOAD_TOO_LATE if the put window of `window` has closed by `atMs`. */
async function assertNotClosed(ctx: WorkerContext, window: number, atMs: number): Promise<void> {
  const head = await ctx.clock.recordedHead();
  const w = ctx.config.hparams.window;
  // Long-gone windows are late without reading old blocks the node may have pruned.
  if (head && certainlyClosed(window, windowOfBlock(head.number, w), w)) {
    throw new EdgeError("UPLOAD_TOO_LATE", `the put window of window ${window} closed long ago`);
  }
  const put = await ctx.clock.putWindow(window);
  if (put && atMs > put.closesAtMs) {
    throw new EdgeError(
      "UPLOAD_TOO_LATE",
      `received at ${atMs}; the put window of window ${window} closed at ${put.closesAtMs}`,
    );
  }
}

/** Throws UPLOAD_TOO_EARLY or UPLOAD_TOO_LATE unless `atMs` falls in the put window of `window`. */
export async function assertInPutWindow(ctx: WorkerContext, window: number, atMs: number): Promise<void> {
  await assertNotClosed(ctx, window, atMs);
  const put = await ctx.clock.putWindow(window);
  if (judgeReceipt(atMs, put) === "early") {
    const when = put ? `opens at ${put.opensAtMs}` : "has not opened (its opening block is not produced yet)";
    throw new EdgeError("UPLOAD_TOO_EARLY", `received at ${atMs}; the put window of window ${window} ${when}`);
  }
}

/**
 * Verifies an upload's claim and everything that can be known before its bytes arrive.
 * `multipart`: the caller opens a multipart session (no single-request size limit).
 */
export async function authorizeUpload(ctx: WorkerContext, claim: UploadClaim, multipart: boolean): Promise<void> {
  verifyClaim(claim);
  await recorded(ctx, claim, async () => {
    const { hparams, netuid } = ctx.config;
    const uid = await resolveHotkey(
      ctx.db,
      ctx.chain,
      netuid,
      claim.hotkey,
      ctx.now(),
      hparams.intake.metagraph_refresh_seconds * 1000,
    );
    if (uid === undefined)
      throw new EdgeError("HOTKEY_UNREGISTERED", `${claim.hotkey} is not registered on netuid ${netuid}`);
    if (uid !== claim.uid) throw new EdgeError("UID_MISMATCH", `${claim.hotkey} holds uid ${uid}, not ${claim.uid}`);
    if (await signatureUsed(ctx.db, claim.signature)) {
      throw new EdgeError("SIGNATURE_REPLAYED", "this signature was already used for an upload");
    }
    const { max_gradient_bytes, max_single_upload_bytes } = hparams.limits;
    if (claim.size > max_gradient_bytes) {
      throw new EdgeError("SIZE_LIMIT_EXCEEDED", `${claim.size} bytes is above the ${max_gradient_bytes}-byte limit`);
    }
    if (!multipart && claim.size > max_single_upload_bytes) {
      throw new EdgeError(
        "MULTIPART_REQUIRED",
        `${claim.size} bytes is above ${max_single_upload_bytes}: use a multipart upload`,
      );
    }
    if (await findSubmission(ctx.db, claim.window, claim.uid)) {
      throw new EdgeError("SUBMISSION_EXISTS", `uid ${claim.uid} already has a submission for window ${claim.window}`);
    }
    // A request that starts after the close can only be received after it.
    await assertNotClosed(ctx, claim.window, ctx.now());
  });
}
