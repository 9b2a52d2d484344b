/**
 * The scoring step of the window clock: scores evaluated windows in order, each in one D1
 * transaction (its lines, the new uid states, the window marked "scored", and every
 * `windows_per_weights` windows a weight set to send to the chain). A window waits while an
 * earlier one is still on its way through validation and evaluation, because scores carry over.
 */
import { eq, inArray } from "drizzle-orm";
import { neurons, uidStates, weightSets, windowScores } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import {
  scoreWindow,
  type ThetaSample,
  type UidWindowLine,
  type WindowScoring,
} from "../../schema/scoring/score-window.ts";
import type { UidScoreState } from "../../schema/scoring/uid-score-state.ts";
import { weightSetOf } from "../../schema/scoring/weights.ts";
import type { WorkerContext } from "../context.ts";
import { d1Statement, type SqlQuery } from "../d1.ts";
import { log } from "../logging/log.ts";
import { commitTransition, windowsReadyFor } from "../windows/window-lifecycle.ts";
import { thetaSample } from "./checkpoint-sample.ts";
import { windowUploads } from "./window-uploads.ts";

/** Windows scored per tick at most, so one tick stays short after downtime. */
const WINDOWS_PER_TICK = 4;

export interface ScoredWindow {
  readonly window: number;
  readonly lines: number;
  readonly matchSize: number;
  /** The weight set created after this window, if it was a weights window. */
  readonly weightSetId: number | null;
}

/** Scores the evaluated windows that are next in line, oldest first. */
export async function scoreEvaluatedWindows(ctx: WorkerContext): Promise<ScoredWindow[]> {
  const out: ScoredWindow[] = [];
  // Without a metagraph every state would look deregistered: wait for the chain.
  if (!(await ctx.db.select({ uid: neurons.uid }).from(neurons).limit(1).get())) return out;
  for (let i = 0; i < WINDOWS_PER_TICK; i++) {
    const [next] = await windowsReadyFor(ctx, "score", 1);
    if (next === undefined) break;
    try {
      out.push(await scoreWindowInD1(ctx, next));
    } catch (e) {
      // The window left "evaluated" while it was being scored (an admin re-run, another tick): nothing was written.
      if (e instanceof EdgeError && e.code === "WINDOW_STATE_CONFLICT") break;
      throw e;
    }
  }
  return out;
}

function stateOf(row: typeof uidStates.$inferSelect): UidScoreState {
  return {
    uid: row.uid,
    hotkey: row.hotkey,
    bma: row.bma,
    evidenceSum: row.evidenceSum,
    evidenceWeight: row.evidenceWeight,
    stepsBehind: row.stepsBehind,
    syncScore: row.syncScore,
    finalScore: row.finalScore,
    rating: row.mu !== null && row.sigma !== null ? { mu: row.mu, sigma: row.sigma } : null,
    inactiveSince: row.inactiveSince,
    banWindowsLeft: row.banWindowsLeft,
    lastSubmissionWindow: row.lastSubmissionWindow,
    lastEvaluatedWindow: row.lastEvaluatedWindow,
  };
}

function stateRow(s: UidScoreState, window: number): typeof uidStates.$inferInsert {
  return {
    uid: s.uid,
    hotkey: s.hotkey,
    bma: s.bma,
    evidenceSum: s.evidenceSum,
    evidenceWeight: s.evidenceWeight,
    stepsBehind: s.stepsBehind,
    syncScore: s.syncScore,
    finalScore: s.finalScore,
    mu: s.rating?.mu ?? null,
    sigma: s.rating?.sigma ?? null,
    inactiveSince: s.inactiveSince,
    banWindowsLeft: s.banWindowsLeft,
    lastSubmissionWindow: s.lastSubmissionWindow,
    lastEvaluatedWindow: s.lastEvaluatedWindow,
    updatedWindow: window,
  };
}

function lineRow(l: UidWindowLine, window: number, now: number): typeof windowScores.$inferInsert {
  return {
    window,
    uid: l.uid,
    hotkey: l.hotkey,
    outcome: l.outcome,
    submissionId: l.submissionId,
    code: l.code,
    gradientScore: l.gradientScore,
    ownImprovement: l.ownImprovement,
    randomImprovement: l.randomImprovement,
    indicator: l.indicator,
    indicatorT: l.indicatorT,
    bmaBefore: l.bmaBefore,
    bma: l.bma,
    evidence: l.evidence,
    payFactor: l.payFactor,
    stepsBehind: l.stepsBehind,
    syncScore: l.syncScore,
    muBefore: l.ratingBefore?.mu ?? null,
    sigmaBefore: l.ratingBefore?.sigma ?? null,
    mu: l.rating?.mu ?? null,
    sigma: l.rating?.sigma ?? null,
    ordinal: l.ordinal,
    matched: l.matched,
    finalBefore: l.finalBefore,
    finalScore: l.finalScore,
    penalties: [...l.penalties],
    createdAtMs: now,
  };
}

/** Everything scoring needs for `window`, read from D1 (and θ_S's sample from R2 when needed). */
export async function windowScoringInputs(ctx: WorkerContext, window: number) {
  const [metagraph, stateRows, uploads] = await Promise.all([
    ctx.db.select({ uid: neurons.uid, hotkey: neurons.hotkey }).from(neurons),
    ctx.db.select().from(uidStates),
    windowUploads(ctx, window),
  ]);
  const anyEvaluated = [...uploads.values()].some((u) => u.outcome.kind === "evaluated");
  const theta: ThetaSample = anyEvaluated ? await thetaSample(ctx, window) : { sample: {}, stepEma: null };
  return {
    window,
    hparams: ctx.config.hparams,
    metagraph: new Map(metagraph.map((n) => [n.uid, n.hotkey])),
    states: new Map(stateRows.map((r) => [r.uid, stateOf(r)])),
    uploads,
    theta,
  };
}

/** Scores one window and writes everything in one transaction. */
export async function scoreWindowInD1(ctx: WorkerContext, window: number): Promise<ScoredWindow> {
  const input = await windowScoringInputs(ctx, window);
  const result: WindowScoring = scoreWindow(input);
  const now = ctx.now();
  const db = ctx.db;
  const gone = [...input.states.keys()].filter((uid) => !result.states.has(uid));
  const statements: SqlQuery[] = [
    ...result.lines.map((l) => db.insert(windowScores).values(lineRow(l, window, now))),
    ...(gone.length ? [db.delete(uidStates).where(inArray(uidStates.uid, gone))] : []),
    ...[...result.states.values()].map((s) => {
      const row = stateRow(s, window);
      return db.insert(uidStates).values(row).onConflictDoUpdate({ target: uidStates.uid, set: row });
    }),
  ];
  const wpw = ctx.config.hparams.weights.windows_per_weights;
  const weightsDue = window % wpw === 0;
  if (weightsDue) {
    const finals = new Map([...result.states.values()].map((st) => [st.uid, st.finalScore]));
    const set = weightSetOf(finals, ctx.config.hparams.weights);
    statements.push(
      db.insert(weightSets).values({
        window,
        netuid: ctx.config.netuid,
        uids: set.uids,
        weights: set.weights,
        values: set.values,
        gather: [...set.vector.gather],
        reserve: [...set.vector.reserve],
        versionKey: ctx.config.weightsVersionKey.toString(),
        status: "pending",
        attempts: 0,
        nextAttemptAtMs: now,
        createdAtMs: now,
        updatedAtMs: now,
      }),
    );
  }
  // One transaction, refused unless the window is still "evaluated": an admin re-run
  // (admin/rerun-evaluation.ts) or another tick may have moved it since its inputs were read.
  await commitTransition(
    ctx,
    "score",
    window,
    statements.map((q) => d1Statement(ctx.d1, q)),
  );
  const weightSet = weightsDue
    ? await db.select({ id: weightSets.id }).from(weightSets).where(eq(weightSets.window, window)).get()
    : undefined;
  log.info("window.scored", {
    window,
    lines: result.lines.length,
    match_size: result.matchSize,
    weight_set_id: weightSet?.id,
  });
  return { window, lines: result.lines.length, matchSize: result.matchSize, weightSetId: weightSet?.id ?? null };
}
