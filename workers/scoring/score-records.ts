/**
 * Reading scores and weights back for people: a window's lines, a uid's history, the weight
 * vector the validator would set now and why, and the weight sets' way to the chain.
 */
import { and, desc, eq, inArray, lt } from "drizzle-orm";
import type { ScoreLineJson, WeightSetJson, WeightsPreviewJson } from "../../schema/api/public.ts";
import { neurons, uidStates, weightSetEvents, weightSets, windowScores, windows } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import { payOf } from "../../schema/scoring/pay-explanation.ts";
import { weightSetOf } from "../../schema/scoring/weights.ts";
import type { WorkerContext } from "../context.ts";

type LineRow = typeof windowScores.$inferSelect;
type SetRow = typeof weightSets.$inferSelect;

/** A window_scores row as JSON. */
export function scoreLineJson(l: LineRow): ScoreLineJson {
  return {
    window: l.window,
    uid: l.uid,
    hotkey: l.hotkey,
    outcome: l.outcome,
    submission_id: l.submissionId,
    code: l.code,
    gradient_score: l.gradientScore,
    own_improvement: l.ownImprovement,
    random_improvement: l.randomImprovement,
    indicator: l.indicator,
    indicator_t: l.indicatorT,
    bma_before: l.bmaBefore,
    bma: l.bma,
    evidence: l.evidence,
    pay_factor: l.payFactor,
    steps_behind: l.stepsBehind,
    sync_score: l.syncScore,
    mu_before: l.muBefore,
    sigma_before: l.sigmaBefore,
    mu: l.mu,
    sigma: l.sigma,
    ordinal: l.ordinal,
    matched: l.matched,
    final_before: l.finalBefore,
    final_score: l.finalScore,
    penalties: l.penalties,
    created_at_ms: l.createdAtMs,
  };
}

/** Every uid's line of a scored window; NOT_FOUND if it has none (not scored yet, or no miners). */
export async function windowLines(ctx: WorkerContext, window: number): Promise<ScoreLineJson[]> {
  const rows = await ctx.db
    .select()
    .from(windowScores)
    .where(eq(windowScores.window, window))
    .orderBy(windowScores.uid);
  if (!rows.length) throw new EdgeError("NOT_FOUND", `window ${window} has no scores (not scored yet, or no miners)`);
  return rows.map(scoreLineJson);
}

/** A uid's lines, newest first, before window `before` if given. */
export async function uidHistory(
  ctx: WorkerContext,
  uid: number,
  limit: number,
  before?: number,
): Promise<ScoreLineJson[]> {
  const rows = await ctx.db
    .select()
    .from(windowScores)
    .where(
      before === undefined
        ? eq(windowScores.uid, uid)
        : and(eq(windowScores.uid, uid), lt(windowScores.window, before)),
    )
    .orderBy(desc(windowScores.window))
    .limit(limit);
  return rows.map(scoreLineJson);
}

/** Weight sets, newest first, each with its events. */
export async function weightSetsJson(ctx: WorkerContext, limit: number): Promise<WeightSetJson[]> {
  const sets = await ctx.db.select().from(weightSets).orderBy(desc(weightSets.window)).limit(limit);
  if (!sets.length) return [];
  const events = await ctx.db
    .select()
    .from(weightSetEvents)
    .where(
      inArray(
        weightSetEvents.weightSetId,
        sets.map((s) => s.id),
      ),
    )
    .orderBy(weightSetEvents.id);
  return sets.map((s) =>
    weightSetJson(
      s,
      events.filter((e) => e.weightSetId === s.id),
    ),
  );
}

function weightSetJson(s: SetRow, events: (typeof weightSetEvents.$inferSelect)[]): WeightSetJson {
  return {
    id: s.id,
    window: s.window,
    netuid: s.netuid,
    status: s.status,
    mode: s.mode,
    uids: s.uids,
    weights: s.weights,
    values: s.values,
    version_key: s.versionKey,
    attempts: s.attempts,
    next_attempt_at_ms: s.nextAttemptAtMs,
    error: s.lastErrorCode ? { code: s.lastErrorCode, message: s.lastErrorMessage ?? "" } : null,
    tx_hash: s.txHash,
    commit_block: s.commitBlock,
    set_block: s.setBlock,
    reveal_round: s.revealRound,
    reveal_epoch_start_block: s.revealEpochStartBlock,
    commit_epoch: s.commitEpoch,
    created_at_ms: s.createdAtMs,
    updated_at_ms: s.updatedAtMs,
    events: events.map((e) => ({
      at_ms: e.atMs,
      event: e.event,
      tx_hash: e.txHash,
      block: e.block,
      code: e.code,
      message: e.message,
    })),
  };
}

/** The weight vector from the current uid states, with the scores behind each weight. */
export async function weightsPreview(ctx: WorkerContext): Promise<WeightsPreviewJson> {
  const { hparams, netuid, weightsVersionKey } = ctx.config;
  const [latest, stateRows, hotkeys, [newestSet]] = await Promise.all([
    ctx.db
      .select({ window: windows.window })
      .from(windows)
      .where(eq(windows.state, "scored"))
      .orderBy(desc(windows.window))
      .limit(1)
      .get(),
    ctx.db.select().from(uidStates),
    ctx.db.select({ uid: neurons.uid, hotkey: neurons.hotkey }).from(neurons),
    weightSetsJson(ctx, 1),
  ]);
  const states = new Map(stateRows.map((s) => [s.uid, s]));
  const why = (s: (typeof stateRows)[number]) => payOf(s, hparams.scoring);
  const hotkeyOf = new Map(hotkeys.map((n) => [n.uid, n.hotkey]));
  const set = weightSetOf(new Map(stateRows.map((s) => [s.uid, s.finalScore])), hparams.weights);
  // The burn uid takes no tier slot (weights.ts).
  const tierOf = (uid: number): "burn" | "gather" | "reserve" =>
    uid === hparams.weights.burn_uid ? "burn" : set.vector.gather.includes(uid) ? "gather" : "reserve";
  const lines = latest
    ? await ctx.db.select().from(windowScores).where(eq(windowScores.window, latest.window)).orderBy(windowScores.uid)
    : [];
  return {
    window: latest?.window ?? null,
    netuid,
    version_key: weightsVersionKey.toString(),
    burn_uid: hparams.weights.burn_uid,
    burn_rate: hparams.weights.burn_rate,
    weights: set.uids
      .map((uid, i) => {
        const s = states.get(uid);
        const w = s && why(s);
        return {
          uid,
          hotkey: hotkeyOf.get(uid) ?? null,
          tier: tierOf(uid),
          weight: set.weights[i] as number,
          value: set.values[i] as number,
          final_score: s?.finalScore ?? null,
          ordinal: w?.ordinal ?? null,
          evidence: w?.evidence ?? null,
          pay_factor: w?.payFactor ?? null,
          sync_score: s?.syncScore ?? null,
          steps_behind: s?.stepsBehind ?? null,
          explanation: w?.explanation ?? null,
        };
      })
      .sort((a, b) => b.weight - a.weight || a.uid - b.uid),
    unpaid: stateRows
      .filter((s) => s.finalScore <= 0)
      .map((s) => {
        const w = why(s);
        return {
          uid: s.uid,
          hotkey: s.hotkey,
          final_score: s.finalScore,
          evidence: w.evidence,
          pay_factor: w.payFactor,
          explanation: w.explanation,
        };
      }),
    penalties: lines.flatMap((l) => l.penalties.map((p) => ({ uid: l.uid, hotkey: l.hotkey, ...p }))),
    latest_set: newestSet ?? null,
  };
}
