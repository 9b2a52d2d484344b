/**
 * What the dashboard's front page shows, read from D1 in one batch (one round trip): the
 * current window and its put window, the latest windows' intake and outer steps, the held-out
 * bpb over windows, and the leaderboard. The chain is never called: a page view must not wait
 * on (or fail with) the chain; the cron keeps the recorded head fresh.
 */

import { count, desc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import {
  chainHead,
  checkpoints,
  copyFlags,
  evaluations,
  modelAdvances,
  submissions,
  uidStates,
  uploadRefusalCounts,
  uploadRefusals,
  windowScores,
  windows,
} from "../../schema/db/index.ts";
import type { PenaltyJson } from "../../schema/db/scoring.ts";
import { ordinal } from "../../schema/scoring/openskill-match.ts";
import { evidenceOf, payFactor } from "../../schema/scoring/own-data-evidence.ts";
import { weightSetOf } from "../../schema/scoring/weights.ts";
import { openingBlock, windowOfBlock } from "../../schema/windows/window-math.ts";
import { type HeadFreshness, headFreshness } from "../clock/head-freshness.ts";
import type { WorkerContext } from "../context.ts";
import { latestWeightSetQuery } from "../weights/latest-weight-set.ts";

/** Windows in the per-window table. */
export const TABLE_WINDOWS = 24;
/** Windows in the held-out bpb chart. */
export const CHART_WINDOWS = 100;
/** How far back (windows before a uid's latest line) the leaderboard looks for its last penalty. */
export const PENALTY_WINDOWS = 100;

export interface PutWindowView {
  readonly window: number;
  readonly opensAtMs: number;
  readonly closesAtMs: number;
  readonly state: "pending" | "open" | "closed";
}

/** The current window as the recorded chain head places it (GET /v1/windows/current's figures). */
export interface CurrentWindowView {
  readonly nowMs: number;
  readonly netuid: number;
  readonly profile: string;
  readonly blocksPerWindow: number;
  /** Null before the cron first read the chain. */
  readonly head: { readonly block: number; readonly atMs: number; readonly seenAtMs: number } | null;
  /** The head's freshness (head-freshness.ts); null without a head. */
  readonly freshness: HeadFreshness | null;
  readonly window: number | null;
  /** The put window open during the current window (that of the window before it), once recorded. */
  readonly putWindow: PutWindowView | null;
  /** The current window's own put window: its opening block and when it should open. */
  readonly nextPutWindow: {
    readonly window: number;
    readonly openingBlock: number;
    readonly expectedOpensAtMs: number;
  } | null;
  readonly checkpointWindow: number | null;
}

/** One row of the per-window table. */
export interface WindowRowView {
  readonly window: number;
  readonly state: string;
  readonly submissions: Readonly<Record<string, number>>;
  readonly refusals: Readonly<Record<string, number>>;
  readonly copies: number;
  readonly evaluated: number;
  readonly evalFailed: number;
  readonly bpbBefore: number | null;
  readonly bpbAfter: number | null;
}

/** One uid of the leaderboard. */
export interface LeaderRowView {
  readonly uid: number;
  readonly hotkey: string;
  readonly mu: number | null;
  readonly sigma: number | null;
  /** μ − 3σ, the rating the board is ordered by; null while unrated. */
  readonly ordinal: number | null;
  /** ★ Own-data evidence (standard errors) and the share of the final score it earns. */
  readonly evidence: number;
  readonly payFactor: number;
  readonly finalScore: number;
  readonly weight: number;
  readonly lastPenalty: { readonly window: number; readonly penalties: readonly PenaltyJson[] } | null;
}

export interface OverviewView {
  readonly current: CurrentWindowView;
  readonly windows: readonly WindowRowView[];
  /** Held-out bpb of θ_{S+1} after the outer step of S, oldest first. */
  readonly heldoutBpb: readonly { readonly window: number; readonly value: number }[];
  readonly leaderboard: readonly LeaderRowView[];
  /** Where the weights come from: a weight set (its window and status) or the preview from the current states. */
  readonly weightsFrom:
    | {
        readonly kind: "set";
        readonly window: number;
        readonly status: string;
        /** How it goes on chain (direct, hash-commit-reveal, timelocked); null before its first attempt. */
        readonly mode: string | null;
        /** Timelocked: the drand round and the first block of the expected reveal epoch. */
        readonly revealRound: number | null;
        readonly revealEpochStartBlock: number | null;
        /** The block the weights were set or revealed in. */
        readonly setBlock: number | null;
      }
    | { readonly kind: "preview" };
}

function putWindowView(window: number, opensAtMs: number, closesAtMs: number, nowMs: number): PutWindowView {
  const state = nowMs < opensAtMs ? "pending" : nowMs <= closesAtMs ? "open" : "closed";
  return { window, opensAtMs, closesAtMs, state };
}

/** Rated uids by ordinal (highest first), then unrated ones; ties by final score, then uid. */
export function byRating(a: LeaderRowView, b: LeaderRowView): number {
  if (a.ordinal !== b.ordinal) {
    if (a.ordinal === null) return 1;
    if (b.ordinal === null) return -1;
    return b.ordinal - a.ordinal;
  }
  return b.finalScore - a.finalScore || a.uid - b.uid;
}

/** The front page's view model. */
export async function overview(ctx: WorkerContext): Promise<OverviewView> {
  const { hparams, netuid } = ctx.config;
  const db = ctx.db;
  const latestWindows = db
    .select({ window: windows.window })
    .from(windows)
    .orderBy(desc(windows.window))
    .limit(TABLE_WINDOWS);
  const [
    headRows,
    putRows,
    checkpointRows,
    windowRows,
    byStatus,
    refusals,
    copies,
    evaluated,
    advances,
    states,
    lastPenalties,
    setRows,
  ] = await db.batch([
    db.select().from(chainHead).where(eq(chainHead.id, 1)),
    db
      .select({ window: windows.window, opens: windows.putOpensAtMs, closes: windows.putClosesAtMs })
      .from(windows)
      .where(isNotNull(windows.putOpensAtMs))
      .orderBy(desc(windows.window))
      .limit(2),
    db.select({ window: checkpoints.window }).from(checkpoints).orderBy(desc(checkpoints.window)).limit(1),
    db
      .select({ window: windows.window, state: windows.state })
      .from(windows)
      .orderBy(desc(windows.window))
      .limit(TABLE_WINDOWS),
    db
      .select({ window: submissions.window, status: submissions.status, n: count() })
      .from(submissions)
      .where(inArray(submissions.window, latestWindows))
      .groupBy(submissions.window, submissions.status),
    db
      .select({ window: uploadRefusals.window, code: uploadRefusals.code, n: count() })
      .from(uploadRefusals)
      .where(inArray(uploadRefusals.window, latestWindows))
      .groupBy(uploadRefusals.window, uploadRefusals.code)
      .unionAll(
        db
          .select({ window: uploadRefusalCounts.window, code: uploadRefusalCounts.code, n: uploadRefusalCounts.count })
          .from(uploadRefusalCounts)
          .where(inArray(uploadRefusalCounts.window, latestWindows)),
      ),
    db
      .select({ window: copyFlags.window, n: count() })
      .from(copyFlags)
      .where(inArray(copyFlags.window, latestWindows))
      .groupBy(copyFlags.window),
    db
      .select({
        window: evaluations.window,
        ok: sql<number>`sum(${evaluations.errorCode} is null)`,
        failed: sql<number>`sum(${evaluations.errorCode} is not null)`,
      })
      .from(evaluations)
      .where(inArray(evaluations.window, latestWindows))
      .groupBy(evaluations.window),
    db
      .select({
        window: modelAdvances.window,
        before: modelAdvances.heldoutBpbBefore,
        after: modelAdvances.heldoutBpbAfter,
      })
      .from(modelAdvances)
      .orderBy(desc(modelAdvances.window))
      .limit(CHART_WINDOWS),
    db.select().from(uidStates),
    // Each uid's newest line with a penalty, walking its (uid, window) index back from its
    // latest window; materialized so SQLite runs the walk once per uid, not once per line
    // (a scan of every line grows with the run: 10 ms at 25,600 lines, 3 ms this way).
    db
      .select({ uid: sql<number>`uid`, window: sql<number>`"window"`, penalties: sql<string>`penalties` })
      .from(sql`(
        WITH last AS MATERIALIZED (
          SELECT s.uid AS uid, (
            SELECT x."window" FROM ${windowScores} x
            WHERE x.uid = s.uid AND x."window" > s.updated_window - ${PENALTY_WINDOWS} AND x.penalties != '[]'
            ORDER BY x."window" DESC LIMIT 1
          ) AS win FROM ${uidStates} s
        )
        SELECT w.uid AS uid, w."window" AS "window", w.penalties AS penalties
        FROM last JOIN ${windowScores} w ON w."window" = last.win AND w.uid = last.uid
      ) AS last_penalties`),
    latestWeightSetQuery(db),
  ]);

  const nowMs = ctx.now();
  const w = hparams.window;
  const head = headRows[0];
  const window = head ? windowOfBlock(head.block, w) : null;
  const put = window === null ? undefined : putRows.find((r) => r.window === window - 1);
  const current: CurrentWindowView = {
    nowMs,
    netuid,
    profile: hparams.profile,
    blocksPerWindow: w.blocks_per_window,
    head: head ? { block: head.block, atMs: head.timestampMs, seenAtMs: head.seenAtMs } : null,
    freshness: head ? headFreshness(head.timestampMs, nowMs, w) : null,
    window,
    putWindow:
      put?.opens != null && put.closes != null ? putWindowView(put.window, put.opens, put.closes, nowMs) : null,
    nextPutWindow:
      head && window !== null
        ? {
            window,
            openingBlock: openingBlock(window, w),
            expectedOpensAtMs: head.timestampMs + (openingBlock(window, w) - head.block) * w.block_time_ms,
          }
        : null,
    checkpointWindow: checkpointRows[0]?.window ?? null,
  };

  const tally = <R extends { window: number; n: number }>(rows: readonly R[], key: (r: R) => string) => {
    const out = new Map<number, Record<string, number>>();
    for (const r of rows) {
      const m = out.get(r.window) ?? {};
      m[key(r)] = (m[key(r)] ?? 0) + r.n; // refusals: rows under uids and those only counted
      out.set(r.window, m);
    }
    return out;
  };
  const statusOf = tally(byStatus, (r) => r.status);
  const refusalsOf = tally(refusals, (r) => r.code);
  const copiesOf = new Map(copies.map((r) => [r.window, r.n]));
  const evaluatedOf = new Map(evaluated.map((r) => [r.window, r]));
  const advanceOf = new Map(advances.map((r) => [r.window, r]));
  const windowViews = windowRows.map((r) => ({
    window: r.window,
    state: r.state,
    submissions: statusOf.get(r.window) ?? {},
    refusals: refusalsOf.get(r.window) ?? {},
    copies: copiesOf.get(r.window) ?? 0,
    evaluated: Number(evaluatedOf.get(r.window)?.ok ?? 0),
    evalFailed: Number(evaluatedOf.get(r.window)?.failed ?? 0),
    bpbBefore: advanceOf.get(r.window)?.before ?? null,
    bpbAfter: advanceOf.get(r.window)?.after ?? null,
  }));

  // The newest weight set pays what it names; before the first one, the preview from the states.
  const set = setRows[0];
  const paid = set ?? weightSetOf(new Map(states.map((s) => [s.uid, s.finalScore])), hparams.weights);
  const weightOf = new Map(paid.uids.map((uid, i) => [uid, paid.weights[i] ?? 0]));
  const penaltyOf = new Map(
    lastPenalties.map((p) => [p.uid, { window: p.window, penalties: JSON.parse(p.penalties) as PenaltyJson[] }]),
  );
  const leaderboard = states
    .map((s): LeaderRowView => {
      const p = penaltyOf.get(s.uid);
      return {
        uid: s.uid,
        hotkey: s.hotkey,
        mu: s.mu,
        sigma: s.sigma,
        ordinal: s.mu != null && s.sigma != null ? ordinal({ mu: s.mu, sigma: s.sigma }) : null,
        evidence: evidenceOf(s),
        payFactor: payFactor(evidenceOf(s), hparams.scoring),
        finalScore: s.finalScore,
        weight: weightOf.get(s.uid) ?? 0,
        lastPenalty: p ?? null,
      };
    })
    .sort(byRating);

  return {
    current,
    windows: windowViews,
    heldoutBpb: advances
      .filter((a): a is typeof a & { after: number } => a.after !== null)
      .map((a) => ({ window: a.window, value: a.after }))
      .reverse(),
    leaderboard,
    weightsFrom: set
      ? {
          kind: "set",
          window: set.window,
          status: set.status,
          mode: set.mode,
          revealRound: set.revealRound,
          revealEpochStartBlock: set.revealEpochStartBlock,
          setBlock: set.setBlock,
        }
      : { kind: "preview" },
  };
}
