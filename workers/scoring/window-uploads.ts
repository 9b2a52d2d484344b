/**
 * What became of each uid's upload in a window, as D1 records it: its verdict, its copy flag,
 * its evaluation, or a refusal at the clock. The input of scoring, one outcome per uid.
 */
import { and, eq, inArray } from "drizzle-orm";
import { copyFlags, evaluations, submissions, uploadRefusals } from "../../schema/db/index.ts";
import type { UidUpload, UploadOutcome } from "../../schema/scoring/score-window.ts";
import type { WorkerContext } from "../context.ts";

/** Reads what happened to each uid's upload in `window`. */
export async function windowUploads(ctx: WorkerContext, window: number): Promise<Map<number, UidUpload>> {
  const subs = await ctx.db
    .select({
      id: submissions.id,
      uid: submissions.uid,
      hotkey: submissions.hotkey,
      status: submissions.status,
      code: submissions.errorCode,
      paramSample: submissions.paramSample,
      evalCode: evaluations.errorCode,
      evaluated: evaluations.submissionId,
      lossBeforeOwn: evaluations.lossBeforeOwn,
      lossAfterOwn: evaluations.lossAfterOwn,
      lossBeforeRandom: evaluations.lossBeforeRandom,
      lossAfterRandom: evaluations.lossAfterRandom,
      sampleLosses: evaluations.sampleLosses,
    })
    .from(submissions)
    .leftJoin(evaluations, eq(evaluations.submissionId, submissions.id))
    .where(eq(submissions.window, window));
  const flags = await ctx.db
    .select({
      submissionId: copyFlags.offenderSubmissionId,
      grade: copyFlags.grade,
      overlap: copyFlags.overlap,
      originalUid: copyFlags.originalUid,
    })
    .from(copyFlags)
    .where(eq(copyFlags.window, window));
  // An offender's verdict is its worst flag.
  const worst = new Map<number, (typeof flags)[number]>();
  for (const f of flags) {
    const w = worst.get(f.submissionId);
    if (!w || f.overlap > w.overlap) worst.set(f.submissionId, f);
  }

  const uploads = new Map<number, UidUpload>();
  for (const s of subs) {
    let outcome: UploadOutcome;
    const flag = worst.get(s.id);
    if (s.status === "invalid") {
      outcome = { kind: "invalid", submissionId: s.id, code: s.code ?? "INTERNAL" }; // an invalid verdict always records its code
    } else if (s.status === "copied" && flag) {
      outcome = {
        kind: "copied",
        submissionId: s.id,
        code: s.code ?? "COPY_NEAR",
        grade: flag.grade,
        overlap: flag.overlap,
        originalUid: flag.originalUid,
      };
    } else if (s.evaluated !== null && s.evalCode) {
      outcome = { kind: "eval_failed", submissionId: s.id, code: s.evalCode };
    } else if (
      s.evaluated !== null &&
      s.lossBeforeOwn !== null &&
      s.lossAfterOwn !== null &&
      s.lossBeforeRandom !== null &&
      s.lossAfterRandom !== null
    ) {
      outcome = {
        kind: "evaluated",
        submissionId: s.id,
        losses: {
          lossBeforeOwn: s.lossBeforeOwn,
          lossAfterOwn: s.lossAfterOwn,
          lossBeforeRandom: s.lossBeforeRandom,
          lossAfterRandom: s.lossAfterRandom,
          samples: s.sampleLosses && {
            ownBefore: s.sampleLosses.own_before,
            ownAfter: s.sampleLosses.own_after,
            randomBefore: s.sampleLosses.random_before,
            randomAfter: s.sampleLosses.random_after,
            referenceOwnAfter: s.sampleLosses.reference_own_after ?? null,
            referenceRandomAfter: s.sampleLosses.reference_random_after ?? null,
          },
        },
        paramSample: s.paramSample,
      };
    } else {
      outcome = { kind: "not_evaluated", submissionId: s.id };
    }
    uploads.set(s.uid, { hotkey: s.hotkey, outcome });
  }

  const refusals = await ctx.db
    .select({ uid: uploadRefusals.uid, hotkey: uploadRefusals.hotkey, code: uploadRefusals.code })
    .from(uploadRefusals)
    .where(
      and(eq(uploadRefusals.window, window), inArray(uploadRefusals.code, ["UPLOAD_TOO_EARLY", "UPLOAD_TOO_LATE"])),
    );
  for (const r of refusals) {
    if (uploads.has(r.uid) || !r.hotkey) continue;
    uploads.set(r.uid, {
      hotkey: r.hotkey,
      outcome: { kind: "refused", code: r.code as "UPLOAD_TOO_EARLY" | "UPLOAD_TOO_LATE" },
    });
  }
  return uploads;
}
