/**
 * Multipart uploads (docs/SPEC.md §5.5) through the R2 binding, under the signature the session
 * was created with: create (in the put window), parts, complete (in the put window: the
 * receipt), abort. The SHA-256 of a multipart file is checked by the validation consumer.
 */
import { and, asc, eq } from "drizzle-orm";
import type { z } from "zod";
import type { multipartSessionHeaders } from "../../schema/api/upload-requests.ts";
import { multipartParts, multipartUploads } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import { parseHotkey, type UploadClaim } from "../../schema/upload/upload-claim.ts";
import { assertIntakeOpen, intakeState } from "../admin/intake-pause.ts";
import type { WorkerContext } from "../context.ts";
import { uniqueViolation } from "../d1.ts";
import { log } from "../logging/log.ts";
import { assertInPutWindow, authorizeUpload, recorded } from "./authorize-upload.ts";
import { gradientObjectKey, insertSubmission, queueValidation, type SubmissionRow } from "./submission-records.ts";

type SessionRow = typeof multipartUploads.$inferSelect;

export interface CreatedSession {
  readonly uploadId: string;
  readonly objectKey: string;
  readonly createdAtMs: number;
}

/** Opens a multipart session for a signed claim. */
export async function createMultipart(ctx: WorkerContext, claim: UploadClaim): Promise<CreatedSession> {
  await authorizeUpload(ctx, claim, true);
  return recorded(ctx, claim, async () => {
    const createdAtMs = ctx.now();
    await assertInPutWindow(ctx, claim.window, createdAtMs);
    const objectKey = gradientObjectKey(ctx.config.netuid, claim.window, claim.uid);
    const upload = await ctx.gradients.createMultipartUpload(objectKey);
    try {
      await ctx.db.insert(multipartUploads).values({
        uploadId: upload.uploadId,
        window: claim.window,
        uid: claim.uid,
        hotkey: claim.hotkey,
        objectKey,
        sha256: claim.sha256,
        sizeBytes: claim.size,
        signature: claim.signature,
        createdAtMs,
      });
    } catch (e) {
      await upload.abort();
      if (uniqueViolation(e)?.includes("signature")) {
        throw new EdgeError("SIGNATURE_REPLAYED", "this signature already opened a multipart upload");
      }
      throw e;
    }
    return { uploadId: upload.uploadId, objectKey, createdAtMs };
  });
}

/** The hotkey and signature that opened a session, as each of its requests presents them (parsed headers). */
export type SessionCredentials = z.output<typeof multipartSessionHeaders>;

/** The open session named by a request, which must present the session's hotkey and signature. */
async function openSession(
  ctx: WorkerContext,
  at: { window: number; uid: number; uploadId: string },
  credentials: SessionCredentials,
): Promise<SessionRow> {
  const session = await ctx.db
    .select()
    .from(multipartUploads)
    .where(
      and(
        eq(multipartUploads.uploadId, at.uploadId),
        eq(multipartUploads.window, at.window),
        eq(multipartUploads.uid, at.uid),
        eq(multipartUploads.state, "open"),
      ),
    )
    .get();
  if (!session)
    throw new EdgeError(
      "MULTIPART_UNKNOWN",
      `no open multipart upload ${at.uploadId} for window ${at.window}, uid ${at.uid}`,
    );
  const { hotkey } = parseHotkey(credentials["X-Templar-Hotkey"]);
  if (hotkey !== session.hotkey || credentials["X-Templar-Signature"] !== session.signature) {
    throw new EdgeError(
      "SIGNATURE_INVALID",
      "this request does not carry the hotkey and signature that opened the session",
    );
  }
  return session;
}

async function endSession(ctx: WorkerContext, session: SessionRow, state: "completed" | "aborted"): Promise<void> {
  const at = ctx.now();
  await ctx.db
    .update(multipartUploads)
    .set(state === "completed" ? { state, completedAtMs: at } : { state, abortedAtMs: at })
    .where(eq(multipartUploads.uploadId, session.uploadId));
}

export interface StoredPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly sizeBytes: number;
}

/** Stores one part of a session (re-sending a part number replaces it). */
export async function uploadPart(
  ctx: WorkerContext,
  at: { window: number; uid: number; uploadId: string; partNumber: number },
  credentials: SessionCredentials,
  headers: Headers,
  body: ReadableStream<Uint8Array> | null,
): Promise<StoredPart> {
  const session = await openSession(ctx, at, credentials);
  return recorded(ctx, session, async () => {
    const { multipart_max_parts } = ctx.config.hparams.limits;
    if (!Number.isInteger(at.partNumber) || at.partNumber < 1 || at.partNumber > multipart_max_parts) {
      throw new EdgeError(
        "MULTIPART_PART_INVALID",
        `part numbers run from 1 to ${multipart_max_parts}, got ${at.partNumber}`,
      );
    }
    const length = Number(headers.get("Content-Length") ?? Number.NaN);
    if (!Number.isSafeInteger(length) || length < 1)
      throw new EdgeError("BAD_REQUEST", "a part needs a Content-Length of at least 1");
    if (length > session.sizeBytes) {
      throw new EdgeError("SIZE_MISMATCH", `a ${length}-byte part is longer than the signed size ${session.sizeBytes}`);
    }
    await assertInPutWindow(ctx, session.window, ctx.now());
    const fixed = new FixedLengthStream(length);
    const piped = (body ?? new Blob([]).stream()).pipeTo(fixed.writable);
    const upload = ctx.gradients.resumeMultipartUpload(session.objectKey, session.uploadId);
    let part: R2UploadedPart;
    try {
      [part] = await Promise.all([upload.uploadPart(at.partNumber, fixed.readable), piped]);
    } catch (e) {
      throw new EdgeError("SIZE_MISMATCH", `part ${at.partNumber} did not arrive as ${length} bytes`, undefined, {
        cause: e,
      });
    }
    const row = { etag: part.etag, sizeBytes: length, receivedAtMs: ctx.now() };
    await ctx.db
      .insert(multipartParts)
      .values({ uploadId: session.uploadId, partNumber: at.partNumber, ...row })
      .onConflictDoUpdate({ target: [multipartParts.uploadId, multipartParts.partNumber], set: row });
    return { partNumber: at.partNumber, etag: part.etag, sizeBytes: length };
  });
}

/** Checks that a completion lists exactly the stored parts, in order, sized as the rules say. */
function checkCompletion(
  session: SessionRow,
  listed: readonly { part_number: number; etag: string }[],
  stored: readonly StoredPart[],
  minPartBytes: number,
): void {
  const same =
    listed.length === stored.length &&
    listed.every((p, i) => p.part_number === i + 1 && stored[i]?.partNumber === i + 1 && stored[i]?.etag === p.etag);
  if (!same) {
    const have = stored.map((p) => p.partNumber).join(", ") || "none";
    throw new EdgeError(
      "MULTIPART_INCOMPLETE",
      `complete must list parts 1…n once, in order, as uploaded (stored: ${have})`,
    );
  }
  stored.slice(0, -1).forEach((p) => {
    if (p.sizeBytes < minPartBytes) {
      throw new EdgeError(
        "MULTIPART_PART_INVALID",
        `part ${p.partNumber} has ${p.sizeBytes} bytes; all but the last need ${minPartBytes}`,
      );
    }
  });
  const total = stored.reduce((n, p) => n + p.sizeBytes, 0);
  if (total < session.sizeBytes) {
    throw new EdgeError("MULTIPART_INCOMPLETE", `the parts hold ${total} bytes of the signed ${session.sizeBytes}`);
  }
  if (total > session.sizeBytes)
    throw new EdgeError("SIZE_MISMATCH", `the parts hold ${total} bytes, the signed size is ${session.sizeBytes}`);
}

/** Completes a session: its arrival is the receipt time; the submission is recorded and queued. */
export async function completeMultipart(
  ctx: WorkerContext,
  at: { window: number; uid: number; uploadId: string },
  credentials: SessionCredentials,
  listed: readonly { part_number: number; etag: string }[],
): Promise<SubmissionRow> {
  const session = await openSession(ctx, at, credentials);
  const receivedAtMs = ctx.now();
  return recorded(ctx, session, async () => {
    assertIntakeOpen(await intakeState(ctx.db));
    const stored = await ctx.db
      .select()
      .from(multipartParts)
      .where(eq(multipartParts.uploadId, session.uploadId))
      .orderBy(asc(multipartParts.partNumber));
    checkCompletion(session, listed, stored, ctx.config.hparams.limits.multipart_min_part_bytes);
    const upload = ctx.gradients.resumeMultipartUpload(session.objectKey, session.uploadId);
    try {
      await assertInPutWindow(ctx, session.window, receivedAtMs);
    } catch (e) {
      await upload.abort();
      await endSession(ctx, session, "aborted");
      throw e;
    }
    await upload.complete(stored.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
    let submission: SubmissionRow;
    try {
      submission = await insertSubmission(ctx.db, {
        window: session.window,
        uid: session.uid,
        hotkey: session.hotkey,
        objectKey: session.objectKey,
        sizeBytes: session.sizeBytes,
        sha256: session.sha256,
        receivedAtMs,
        multipartCreatedAtMs: session.createdAtMs,
        signature: session.signature,
      });
    } catch (e) {
      await ctx.gradients.delete(session.objectKey);
      await endSession(ctx, session, "aborted");
      throw e;
    }
    await endSession(ctx, session, "completed");
    await queueValidation(ctx, submission);
    log.info("upload.accepted", {
      window: submission.window,
      uid: submission.uid,
      submission_id: submission.id,
      size_bytes: submission.sizeBytes,
      multipart: true,
    });
    return submission;
  });
}

/** Aborts an open session. */
export async function abortMultipart(
  ctx: WorkerContext,
  at: { window: number; uid: number; uploadId: string },
  credentials: SessionCredentials,
): Promise<void> {
  const session = await openSession(ctx, at, credentials);
  await ctx.gradients.resumeMultipartUpload(session.objectKey, session.uploadId).abort();
  await endSession(ctx, session, "aborted");
}
