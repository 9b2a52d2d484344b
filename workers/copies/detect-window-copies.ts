/**
 * Copy detection for a window, run once its put window has closed, its seed block is known,
 * every upload has a verdict and every valid one a fingerprint: flags every copied pair with its
 * overlap, marks offenders `copied`, and moves the window to `validated`.
 */
import { and, eq, inArray, lt } from "drizzle-orm";
import { type CopyCandidate, type Fingerprint, type FoundCopy, findCopies } from "../../schema/copies/find-copies.ts";
import { copyFingerprints, copyFlags, submissions, windows } from "../../schema/db/index.ts";
import type { WorkerContext } from "../context.ts";
import { d1Statement } from "../d1.ts";
import { log } from "../logging/log.ts";
import { tryTransition } from "../windows/window-lifecycle.ts";

/** D1 binds at most 100 parameters per statement. */
const IN_LIST = 90;

export type CopyCheck =
  | { readonly state: "not_ready"; readonly reason: string; readonly needFingerprint: readonly number[] }
  | { readonly state: "done"; readonly flags: readonly FoundCopy[] };

const candidate = (s: typeof submissions.$inferSelect): CopyCandidate => ({
  submissionId: s.id,
  uid: s.uid,
  window: s.window,
  receivedAtMs: s.receivedAtMs,
  tensorDigest: s.tensorDigest as string,
});

/** Runs copy detection for a window if it is ready (idempotent: flags are unique per pair). */
export async function detectWindowCopies(ctx: WorkerContext, window: number): Promise<CopyCheck> {
  const win = await ctx.db.select().from(windows).where(eq(windows.window, window)).get();
  if (!win?.seedBlockHash || win.putClosesAtMs === null || ctx.now() <= win.putClosesAtMs) {
    return { state: "not_ready", reason: "the put window is open or its seed block unknown", needFingerprint: [] };
  }
  const subs = await ctx.db.select().from(submissions).where(eq(submissions.window, window));
  if (subs.some((s) => s.status === "received"))
    return { state: "not_ready", reason: "uploads await their verdict", needFingerprint: [] };
  const valid = subs.filter((s) => s.status === "valid" || s.status === "copied");
  const prints = new Map<number, Fingerprint>();
  for (const row of await ctx.db.select().from(copyFingerprints).where(eq(copyFingerprints.window, window))) {
    prints.set(row.submissionId, row.sample as Fingerprint);
  }
  const missing = valid.filter((s) => !prints.has(s.id)).map((s) => s.id);
  if (missing.length) return { state: "not_ready", reason: "fingerprints missing", needFingerprint: missing };

  const digests = [...new Set(valid.map((s) => s.tensorDigest as string))];
  const earlier: CopyCandidate[] = [];
  for (let i = 0; i < digests.length; i += IN_LIST) {
    const rows = await ctx.db
      .select()
      .from(submissions)
      .where(
        and(
          inArray(submissions.tensorDigest, digests.slice(i, i + IN_LIST)),
          lt(submissions.window, window),
          inArray(submissions.status, ["valid", "copied"]),
        ),
      );
    earlier.push(...rows.map(candidate));
  }
  const flags = findCopies(
    valid.map((s) => ({ ...candidate(s), fingerprint: prints.get(s.id) as Fingerprint })),
    earlier,
    ctx.config.hparams.copy,
  );

  const now = ctx.now();
  // One verdict per offender: exact before near, then the highest overlap.
  const worst = new Map<number, FoundCopy>();
  for (const f of flags) {
    const w = worst.get(f.offender.submissionId);
    if (!w || (f.kind === "exact" && w.kind === "near") || (f.kind === w.kind && f.overlap > w.overlap))
      worst.set(f.offender.submissionId, f);
  }
  const statements = [
    ...flags.map((f) =>
      ctx.db
        .insert(copyFlags)
        .values({
          window,
          offenderSubmissionId: f.offender.submissionId,
          offenderUid: f.offender.uid,
          originalSubmissionId: f.original.submissionId,
          originalUid: f.original.uid,
          originalWindow: f.original.window,
          kind: f.kind,
          overlap: f.overlap,
          grade: f.grade,
          createdAtMs: now,
        })
        .onConflictDoNothing(),
    ),
    ...[...worst.values()].map((f) =>
      ctx.db
        .update(submissions)
        .set({
          status: "copied",
          errorCode: f.kind === "exact" ? "COPY_EXACT" : "COPY_NEAR",
          errorMessage:
            f.kind === "exact"
              ? `the tensors equal those of uid ${f.original.uid} in window ${f.original.window}, received earlier`
              : `top-k index overlap ${f.overlap.toFixed(3)} (grade ${f.grade}) with uid ${f.original.uid}, received earlier`,
        })
        .where(and(eq(submissions.id, f.offender.submissionId), eq(submissions.status, "valid"))),
    ),
  ].map((q) => d1Statement(ctx.d1, q));
  // Detection runs again (queue and cron) once a window is done: only the run that validates the window writes.
  if (!(await tryTransition(ctx, "validate", window, statements))) return { state: "done", flags };
  [...worst.values()].forEach((f) => {
    log.warn("copy.flagged", {
      window,
      uid: f.offender.uid,
      submission_id: f.offender.submissionId,
      kind: f.kind,
      grade: f.grade,
      overlap: f.overlap,
      original_uid: f.original.uid,
      original_submission_id: f.original.submissionId,
      original_window: f.original.window,
    });
  });
  log.info("copies.checked", { window, submissions: valid.length, flags: flags.length, offenders: worst.size });
  return { state: "done", flags };
}
