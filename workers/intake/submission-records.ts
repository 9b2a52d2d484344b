/**
 * Submissions and refused attempts in D1, and where gradients live in R2.
 */
import { and, desc, eq, lt, or } from "drizzle-orm";
import { submissions, uploadRefusals } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import { type Database, uniqueViolation } from "../d1.ts";
import { log } from "../logging/log.ts";

export type SubmissionRow = typeof submissions.$inferSelect;
export type RefusalRow = typeof uploadRefusals.$inferSelect;

/**
 * The R2 key of an upload attempt. The random part keeps a losing concurrent attempt from ever
 * touching the object of the submission that won (window, uid).
 */
export function gradientObjectKey(netuid: number, window: number, uid: number): string {
  const attempt = crypto.getRandomValues(new Uint8Array(6));
  const tag = Array.from(attempt, (b) => b.toString(16).padStart(2, "0")).join("");
  return `gradients/${netuid}/${window}/${uid}-${tag}.safetensors`;
}

/** The submission of (window, uid), if any. */
export async function findSubmission(db: Database, window: number, uid: number): Promise<SubmissionRow | undefined> {
  return db
    .select()
    .from(submissions)
    .where(and(eq(submissions.window, window), eq(submissions.uid, uid)))
    .get();
}

/** The submission of (window, uid); NOT_FOUND if there is none. */
export async function requireSubmission(db: Database, window: number, uid: number): Promise<SubmissionRow> {
  const sub = await findSubmission(db, window, uid);
  if (!sub) throw new EdgeError("NOT_FOUND", `no submission of uid ${uid} for window ${window}`);
  return sub;
}

/** Records a received upload; the unique indexes make the first of concurrent attempts win. */
export async function insertSubmission(db: Database, row: typeof submissions.$inferInsert): Promise<SubmissionRow> {
  try {
    const [inserted] = await db.insert(submissions).values(row).returning();
    return inserted as SubmissionRow;
  } catch (e) {
    const constraint = uniqueViolation(e);
    if (constraint?.includes("submissions.signature")) {
      throw new EdgeError("SIGNATURE_REPLAYED", "this signature was already used for an upload");
    }
    if (constraint?.includes("submissions.window")) {
      throw new EdgeError("SUBMISSION_EXISTS", `uid ${row.uid} already has a submission for window ${row.window}`);
    }
    throw e;
  }
}

/** Records a refused attempt of an authenticated miner. */
export async function recordRefusal(
  db: Database,
  at: { window: number; uid: number; hotkey: string | null },
  error: EdgeError,
  receivedAtMs: number,
): Promise<void> {
  await db.insert(uploadRefusals).values({ ...at, code: error.code, message: error.message, receivedAtMs });
}

/** A uid's submissions (newest window first) and refused attempts, before a window if given. */
export async function uidHistory(
  db: Database,
  uid: number,
  limit: number,
  beforeWindow?: number,
): Promise<{ submissions: SubmissionRow[]; refusals: RefusalRow[] }> {
  const before = (col: typeof submissions.window | typeof uploadRefusals.window) =>
    beforeWindow === undefined ? undefined : lt(col, beforeWindow);
  const [subs, refusals] = await db.batch([
    db
      .select()
      .from(submissions)
      .where(and(eq(submissions.uid, uid), before(submissions.window)))
      .orderBy(desc(submissions.window))
      .limit(limit),
    db
      .select()
      .from(uploadRefusals)
      .where(and(eq(uploadRefusals.uid, uid), before(uploadRefusals.window)))
      .orderBy(desc(uploadRefusals.window), desc(uploadRefusals.receivedAtMs))
      .limit(limit),
  ]);
  return { submissions: subs, refusals };
}

/** Sets a submission's verdict, only while it is still in one of the `from` states. */
export async function setVerdict(
  db: Database,
  id: number,
  from: readonly SubmissionRow["status"][],
  verdict: Partial<typeof submissions.$inferInsert> & Pick<SubmissionRow, "status">,
): Promise<boolean> {
  const updated = await db
    .update(submissions)
    .set(verdict)
    .where(and(eq(submissions.id, id), or(...from.map((s) => eq(submissions.status, s)))))
    .returning({ id: submissions.id });
  return updated.length === 1;
}

/**
 * Queues the validation of a recorded submission. A failed send is logged, not thrown: the
 * submission is stored and the cron re-queues whatever stays "received".
 */
export async function queueValidation(
  ctx: { queue: Queue<{ kind: "validate"; submissionId: number }> },
  submission: SubmissionRow,
): Promise<void> {
  try {
    await ctx.queue.send({ kind: "validate", submissionId: submission.id });
  } catch (e) {
    log.error("validation.not_queued", {
      window: submission.window,
      uid: submission.uid,
      submission_id: submission.id,
      msg: "validation not queued: the cron re-queues it",
      error: e,
    });
  }
}
