/**
 * The checks every upload passes before any byte of it is stored: signature, registration,
 * replay, size limits, an existing submission, and whether its put window has already closed.
 * What D1 knows about all of these is read in one round trip. A refusal whose signature verified
 * is written under the uid only when the signing hotkey holds that uid, and only counted otherwise
 * (recordRefusal); unsigned or forged requests are neither (they prove nothing about who sent them).
 */
import { and, eq } from "drizzle-orm";
import { chainHead, multipartUploads, neurons, submissions, windows } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { LimitHparams, WindowHparams } from "../../schema/hparams.ts";
import { type UploadClaim, verifyClaim } from "../../schema/upload/upload-claim.ts";
import {
  certainlyClosed,
  certainlyNotOpen,
  judgeReceipt,
  type PutWindow,
  windowOfBlock,
} from "../../schema/windows/window-math.ts";
import { assertIntakeOpen, type IntakeState, intakeStateOf, latestIntakeSwitch } from "../admin/intake-pause.ts";
import type { WorkerContext } from "../context.ts";
import { log } from "../logging/log.ts";
import { refreshUid } from "../metagraph/metagraph.ts";
import { recordRefusal } from "./submission-records.ts";

/** Runs `step`; a refusal it throws is recorded first (under the uid if its own hotkey signed, else counted). */
export async function recorded<T>(
  ctx: WorkerContext,
  who: { window: number; uid: number; hotkey: string },
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof EdgeError) {
      log.warn("upload.refused", { window: who.window, uid: who.uid, code: e.code, msg: e.message });
      if (e.status < 500)
        await recordRefusal(ctx.db, { window: who.window, uid: who.uid, hotkey: who.hotkey }, e, ctx.now());
    }
    throw e;
  }
}

/** What D1 holds that bears on an upload. */
interface UploadState {
  readonly uid: number | undefined;
  readonly signatureUsed: boolean;
  readonly submissionExists: boolean;
  readonly headBlock: number | undefined;
  readonly put: PutWindow | null;
  readonly intake: IntakeState;
}

async function readUploadState(ctx: WorkerContext, claim: UploadClaim): Promise<UploadState> {
  const { db } = ctx;
  const [neuron, bySignature, sessionBySignature, existing, head, win, intake] = await db.batch([
    db.select({ uid: neurons.uid }).from(neurons).where(eq(neurons.hotkey, claim.hotkey)).limit(1),
    db.select({ id: submissions.id }).from(submissions).where(eq(submissions.signature, claim.signature)).limit(1),
    db
      .select({ id: multipartUploads.uploadId })
      .from(multipartUploads)
      .where(eq(multipartUploads.signature, claim.signature))
      .limit(1),
    db
      .select({ id: submissions.id })
      .from(submissions)
      .where(and(eq(submissions.window, claim.window), eq(submissions.uid, claim.uid)))
      .limit(1),
    db.select({ block: chainHead.block }).from(chainHead).where(eq(chainHead.id, 1)).limit(1),
    db
      .select({ opens: windows.putOpensAtMs, closes: windows.putClosesAtMs })
      .from(windows)
      .where(eq(windows.window, claim.window))
      .limit(1),
    latestIntakeSwitch(db),
  ]);
  const bounds = win[0];
  return {
    uid: neuron[0]?.uid,
    signatureUsed: bySignature.length > 0 || sessionBySignature.length > 0,
    submissionExists: existing.length > 0,
    headBlock: head[0]?.block,
    put:
      bounds?.opens != null && bounds.closes != null
        ? { window: claim.window, opensAtMs: bounds.opens, closesAtMs: bounds.closes }
        : null,
    intake: intakeStateOf(intake),
  };
}

/**
 * Throws UPLOAD_TOO_EARLY or UPLOAD_TOO_LATE unless `atMs` falls in the put window of `window`.
 * `known`: the put window as read before the body arrived; the clock (and, if D1 does not know it
 * yet, the chain) is asked only when it was not known then.
 */
export async function assertInPutWindow(
  ctx: WorkerContext,
  window: number,
  atMs: number,
  known?: PutWindow | null,
): Promise<void> {
  const put = known ?? (await ctx.clock.putWindow(window));
  const timing = judgeReceipt(atMs, put);
  if (timing === "early") {
    const when = put ? `opens at ${put.opensAtMs}` : "has not opened (its opening block is not produced yet)";
    throw new EdgeError("UPLOAD_TOO_EARLY", `received at ${atMs}; the put window of window ${window} ${when}`);
  }
  if (timing === "late") {
    throw new EdgeError(
      "UPLOAD_TOO_LATE",
      `received at ${atMs}; the put window of window ${window} closed at ${put?.closesAtMs}`,
    );
  }
}

/** Throws SIZE_LIMIT_EXCEEDED or MULTIPART_REQUIRED for a claimed size above the limits. */
export function assertWithinLimits(claim: UploadClaim, limits: LimitHparams, multipart: boolean): void {
  if (claim.size > limits.max_gradient_bytes) {
    throw new EdgeError(
      "SIZE_LIMIT_EXCEEDED",
      `${claim.size} bytes is above the ${limits.max_gradient_bytes}-byte limit`,
    );
  }
  if (!multipart && claim.size > limits.max_single_upload_bytes) {
    throw new EdgeError(
      "MULTIPART_REQUIRED",
      `${claim.size} bytes is above ${limits.max_single_upload_bytes}: use a multipart upload`,
    );
  }
}

/**
 * Verifies an upload's claim and everything that can be known before its bytes arrive; returns
 * the put window if D1 knows it. `multipart`: a multipart session (no single-request size limit).
 */
export async function authorizeUpload(
  ctx: WorkerContext,
  claim: UploadClaim,
  multipart: boolean,
): Promise<PutWindow | null> {
  verifyClaim(claim);
  await recorded(ctx, claim, async () => assertWithinLimits(claim, ctx.config.hparams.limits, multipart));
  return checkUploadState(ctx, claim);
}

/**
 * Refuses, unrecorded, a window long closed or not open for more than a window yet: the sender
 * picks the window, so recording these would let anyone add rows (one per window) without bound.
 */
function assertWindowNearHead(claim: UploadClaim, headWindow: number, known: PutWindow | null, w: WindowHparams): void {
  if (certainlyClosed(claim.window, headWindow, w))
    throw new EdgeError("UPLOAD_TOO_LATE", `the put window of window ${claim.window} closed long ago`);
  // A window D1 does not know yet, far past the head, is refused before the clock asks the chain.
  if (!known && certainlyNotOpen(claim.window, headWindow))
    throw new EdgeError(
      "UPLOAD_TOO_EARLY",
      `the put window of window ${claim.window} opens at block ${(claim.window + 1) * w.blocks_per_window}; the chain is at window ${headWindow}`,
    );
}

/**
 * The checks after the signature and the size limits, on what D1 knows: a window near the head,
 * intake not paused by the operator, registration (with one rate-limited refresh for an unknown
 * hotkey), replay, an existing submission, a closed put window.
 */
export async function checkUploadState(ctx: WorkerContext, claim: UploadClaim): Promise<PutWindow | null> {
  const { hparams, netuid } = ctx.config;
  const state = await readUploadState(ctx, claim);
  const headBlock = state.headBlock ?? (await ctx.clock.head()).number;
  assertWindowNearHead(claim, windowOfBlock(headBlock, hparams.window), state.put, hparams.window);
  return recorded(ctx, claim, async () => {
    assertIntakeOpen(state.intake);
    const uid = state.uid ?? (await refreshUid(ctx, claim.hotkey));
    if (uid === undefined)
      throw new EdgeError("HOTKEY_UNREGISTERED", `${claim.hotkey} is not registered on netuid ${netuid}`);
    if (uid !== claim.uid) throw new EdgeError("UID_MISMATCH", `${claim.hotkey} holds uid ${uid}, not ${claim.uid}`);
    if (state.signatureUsed) throw new EdgeError("SIGNATURE_REPLAYED", "this signature was already used for an upload");
    if (state.submissionExists) {
      throw new EdgeError("SUBMISSION_EXISTS", `uid ${claim.uid} already has a submission for window ${claim.window}`);
    }
    if (state.put && ctx.now() > state.put.closesAtMs) await assertInPutWindow(ctx, claim.window, ctx.now(), state.put);
    return state.put;
  });
}
