/**
 * Submissions and refused attempts in D1, and where gradients live in R2.
 */
import { and, count, desc, eq, lt, or, sql } from "drizzle-orm";
import type { HistoryCursor } from "../../schema/api/history-cursor.ts";
import { decimalParam } from "../../schema/api/request-params.ts";
import {
  chainHead,
  MAX_REFUSAL_ROWS_PER_UID_WINDOW,
  submissions,
  uploadRefusalCounts,
  uploadRefusals,
} from "../../schema/db/index.ts";
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";
import { certainlyClosed, certainlyNotOpen, windowOfBlock } from "../../schema/windows/window-math.ts";
import type { WorkerContext } from "../context.ts";
import { type Database, uniqueViolation } from "../d1.ts";
import { log } from "../logging/log.ts";
import { storedUid } from "../metagraph/metagraph.ts";

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

/**
 * Records a refused attempt whose signature verified. Only the uid's own hotkey (per D1's
 * metagraph), with a signature not used before, writes a row under the uid, at most MAX_REFUSAL_ROWS_PER_UID_WINDOW a window; every
 * other refusal is only counted per window and code, so no one can write into, or bury, another
 * miner's record.
 */
export async function recordRefusal(
  db: Database,
  at: { window: number; uid: number; hotkey: string | null },
  error: EdgeError,
  receivedAtMs: number,
): Promise<"row" | "counted"> {
  const holder = at.hotkey === null ? undefined : await storedUid(db, at.hotkey);
  // A replayed signature proves only that the hotkey once signed, not that its owner is asking.
  if (holder === at.uid && error.code !== "SIGNATURE_REPLAYED") {
    const written = await db.run(sql`
      INSERT INTO upload_refusals (window, uid, hotkey, code, message, received_at_ms)
      SELECT ${at.window}, ${at.uid}, ${at.hotkey}, ${error.code}, ${error.message}, ${receivedAtMs}
      WHERE (SELECT count(*) FROM upload_refusals WHERE window = ${at.window} AND uid = ${at.uid})
        < ${MAX_REFUSAL_ROWS_PER_UID_WINDOW}`);
    if (written.meta.changes > 0) return "row";
  }
  await countRefusal(db, at.window, error.code);
  return "counted";
}

/** A window in a path, parsed as the routes parse it. */
const windowParam = decimalParam("window");

/** Refusals of an upload's claim that come before any signature is proven (headers, the signature itself). */
const UNPROVEN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "SIGNATURE_MISSING",
  "SIGNATURE_INVALID",
  "BAD_REQUEST",
]);

/** Adds one to a window's count of refusals with `code`. */
async function countRefusal(db: Database, window: number, code: ErrorCode): Promise<void> {
  await db
    .insert(uploadRefusalCounts)
    .values({ window, code, count: 1 })
    .onConflictDoUpdate({
      target: [uploadRefusalCounts.window, uploadRefusalCounts.code],
      set: { count: sql`${uploadRefusalCounts.count} + 1` },
    });
}

/**
 * Counts a refusal that came before any signature was proven (missing, malformed or forged
 * claim headers) for the window its path names — only a window near the chain head, so that
 * no sender can make the counts grow one window at a time.
 */
export async function countUnprovenRefusal(
  ctx: WorkerContext,
  rawParams: Record<string, string>,
  error: EdgeError,
): Promise<void> {
  const window = windowParam.safeParse(rawParams.window);
  if (!UNPROVEN_CODES.has(error.code) || !window.success) return;
  const head = await ctx.db.select({ block: chainHead.block }).from(chainHead).where(eq(chainHead.id, 1)).get();
  if (!head) return;
  const w = ctx.config.hparams.window;
  const headWindow = windowOfBlock(head.block, w);
  if (certainlyClosed(window.data, headWindow, w) || certainlyNotOpen(window.data, headWindow)) return;
  await countRefusal(ctx.db, window.data, error.code);
}

/** A window's refusals by code: the rows under uids and those only counted. */
export async function refusalsByCode(db: Database, window: number): Promise<Record<string, number>> {
  const [rows, counted] = await db.batch([
    db
      .select({ code: uploadRefusals.code, n: count() })
      .from(uploadRefusals)
      .where(eq(uploadRefusals.window, window))
      .groupBy(uploadRefusals.code),
    db
      .select({ code: uploadRefusalCounts.code, n: uploadRefusalCounts.count })
      .from(uploadRefusalCounts)
      .where(eq(uploadRefusalCounts.window, window)),
  ]);
  const out: Record<string, number> = {};
  for (const { code, n } of [...rows, ...counted]) out[code] = (out[code] ?? 0) + n;
  return out;
}

/** One page of a uid's history: its entries in history order and where the next page starts. */
export interface UploadHistoryPage {
  readonly submissions: SubmissionRow[];
  readonly refusals: RefusalRow[];
  readonly next: HistoryCursor | null;
}

/**
 * A page of a uid's upload history after `cursor` (schema/api/history-cursor.ts for the order).
 * Each table is read for at most limit + 1 rows past the cursor by its (uid, window) index, so
 * a page costs two bounded reads however many refusals a window holds.
 */
export async function uidHistory(
  db: Database,
  uid: number,
  limit: number,
  cursor?: HistoryCursor,
): Promise<UploadHistoryPage> {
  // A window's submission precedes its refusals: after the submission of window w come w's
  // refusals; after a refusal of w, only w's older refusals.
  const subsAfter = cursor && lt(submissions.window, cursor.window);
  const refusalsAfter =
    cursor &&
    or(
      lt(uploadRefusals.window, cursor.window),
      and(
        eq(uploadRefusals.window, cursor.window),
        cursor.kind === "submission" ? undefined : lt(uploadRefusals.id, cursor.id),
      ),
    );
  const [subs, refusals] = await db.batch([
    db
      .select()
      .from(submissions)
      .where(and(eq(submissions.uid, uid), subsAfter))
      .orderBy(desc(submissions.window))
      .limit(limit + 1),
    db
      .select()
      .from(uploadRefusals)
      .where(and(eq(uploadRefusals.uid, uid), refusalsAfter))
      .orderBy(desc(uploadRefusals.window), desc(uploadRefusals.id))
      .limit(limit + 1),
  ]);
  // Merge the two in history order and keep the first `limit`.
  const page: ({ kind: "submission"; row: SubmissionRow } | { kind: "refusal"; row: RefusalRow })[] = [];
  let s = 0;
  let r = 0;
  while (page.length <= limit && (s < subs.length || r < refusals.length)) {
    const sub = subs[s];
    const ref = refusals[r];
    if (sub && (!ref || sub.window >= ref.window)) {
      page.push({ kind: "submission", row: sub });
      s++;
    } else if (ref) {
      page.push({ kind: "refusal", row: ref });
      r++;
    }
  }
  const more = page.length > limit;
  const shown = page.slice(0, limit);
  const last = shown.at(-1);
  return {
    submissions: shown.flatMap((e) => (e.kind === "submission" ? [e.row] : [])),
    refusals: shown.flatMap((e) => (e.kind === "refusal" ? [e.row] : [])),
    next: more && last ? { window: last.row.window, kind: last.kind, id: last.row.id } : null,
  };
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
