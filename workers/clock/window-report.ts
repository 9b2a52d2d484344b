/**
 * What the validator knows of one window (GET /v1/windows/{window}): its state, blocks, put
 * window and seed block; its submissions by status and format version, refusals by code and copies caught; and
 * the outer step it fed (peers, the held-out loss of θ_S and θ_{S+1} in bits per byte).
 */
import { and, count, eq, isNotNull } from "drizzle-orm";
import type { OuterStepJson, WindowReportJson } from "../../schema/api/public.ts";
import { checkpoints, copyFlags, modelAdvances, submissions, windows } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { WorkerContext } from "../context.ts";
import { putWindowJson } from "../http/json.ts";
import { refusalsByCode } from "../intake/submission-records.ts";

/** The report of a window; NOT_FOUND if the validator has no record of it. */
export async function windowReport(ctx: WorkerContext, window: number): Promise<WindowReportJson> {
  const row = await ctx.db.select().from(windows).where(eq(windows.window, window)).get();
  if (!row) throw new EdgeError("NOT_FOUND", `the validator has no record of window ${window}`);
  const [byStatus, byVersion, refusals, copies, advance, measured] = await Promise.all([
    ctx.db
      .select({ status: submissions.status, n: count() })
      .from(submissions)
      .where(eq(submissions.window, window))
      .groupBy(submissions.status),
    ctx.db
      .select({ version: submissions.formatVersion, n: count() })
      .from(submissions)
      .where(and(eq(submissions.window, window), isNotNull(submissions.formatVersion)))
      .groupBy(submissions.formatVersion),
    refusalsByCode(ctx.db, window),
    ctx.db
      .select({ uid: copyFlags.offenderUid, grade: copyFlags.grade })
      .from(copyFlags)
      .where(eq(copyFlags.window, window)),
    ctx.db.select().from(modelAdvances).where(eq(modelAdvances.window, window)).get(),
    ctx.db
      .select({ step: checkpoints.globalStep })
      .from(checkpoints)
      .where(eq(checkpoints.window, window + 1))
      .get(),
  ]);
  const outerStep: OuterStepJson | null = advance
    ? {
        peer_mode: advance.peerMode,
        peers: advance.peers.map((p) => p.uid),
        skipped: advance.skipped,
        applied_uids: advance.appliedUids,
        heldout_bpb_before: advance.heldoutBpbBefore,
        heldout_bpb_after: advance.heldoutBpbAfter,
        global_step_after: measured?.step ?? null,
        completed_at_ms: advance.completedAtMs,
      }
    : null;
  return {
    window,
    state: row.state,
    start_block: row.startBlock,
    end_block: row.endBlock,
    put_window:
      row.putOpensAtMs !== null && row.putClosesAtMs !== null
        ? putWindowJson({ window, opensAtMs: row.putOpensAtMs, closesAtMs: row.putClosesAtMs }, ctx.now())
        : null,
    seed_block:
      row.seedBlock === null ? null : { number: row.seedBlock, hash: row.seedBlockHash, at_ms: row.seedBlockAtMs },
    submissions: Object.fromEntries(byStatus.map((r) => [r.status, r.n])),
    format_versions: Object.fromEntries(byVersion.map((r) => [String(r.version), r.n])),
    refusals,
    copies: copies.map((c) => ({ uid: c.uid, grade: c.grade })),
    outer_step: outerStep,
  };
}
