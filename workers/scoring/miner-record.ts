/**
 * One uid as the validator knows it, read from D1 in one batch: its carried state (rating,
 * own-data evidence, pay factor, and why it is paid what it is), its registration, its latest
 * score lines and its weight now. `GET /v1/miners/{uid}` and the dashboard's page both show it.
 */
import { desc, eq } from "drizzle-orm";
import type { MinerJson } from "../../schema/api/public.ts";
import { neurons, uidStates, windowScores } from "../../schema/db/index.ts";
import { payOf } from "../../schema/scoring/pay-explanation.ts";
import type { WorkerContext } from "../context.ts";
import { latestWeightSetQuery } from "../weights/latest-weight-set.ts";
import { scoreLineJson } from "./score-records.ts";

/** Lines on a uid's page (and points in its chart). */
export const HISTORY_WINDOWS = 100;

export type ScoreLineRow = typeof windowScores.$inferSelect;

export interface MinerRecord {
  readonly uid: number;
  /** The registered hotkey, else the hotkey of the latest state or line. */
  readonly hotkey: string | null;
  readonly registered: boolean;
  readonly state: {
    readonly mu: number | null;
    readonly sigma: number | null;
    readonly ordinal: number | null;
    readonly bma: number;
    /** ★ Own-data evidence (standard errors) and the share of the final score it earns. */
    readonly evidence: number;
    readonly payFactor: number;
    /** Why the uid is paid what it is (schema/scoring/pay-explanation.ts). */
    readonly explanation: string;
    readonly finalScore: number;
    readonly syncScore: number | null;
    readonly stepsBehind: number | null;
    readonly banWindowsLeft: number;
    readonly inactiveSince: number | null;
    readonly updatedWindow: number;
  } | null;
  /** Its weight in the newest weight set (null before the first one). */
  readonly weight: { readonly window: number; readonly status: string; readonly value: number } | null;
  /** Newest first. */
  readonly lines: readonly ScoreLineRow[];
}

/** What the validator knows of a uid, with its latest `history` lines; null when it has never heard of the uid. */
export async function minerRecord(
  ctx: WorkerContext,
  uid: number,
  history = HISTORY_WINDOWS,
): Promise<MinerRecord | null> {
  const db = ctx.db;
  const [stateRows, neuronRows, lines, setRows] = await db.batch([
    db.select().from(uidStates).where(eq(uidStates.uid, uid)),
    db.select({ hotkey: neurons.hotkey }).from(neurons).where(eq(neurons.uid, uid)),
    db.select().from(windowScores).where(eq(windowScores.uid, uid)).orderBy(desc(windowScores.window)).limit(history),
    latestWeightSetQuery(db),
  ]);
  const s = stateRows[0];
  const neuron = neuronRows[0];
  if (!s && !neuron && !lines.length) return null;
  const set = setRows[0];
  const at = set ? set.uids.indexOf(uid) : -1;
  return {
    uid,
    hotkey: neuron?.hotkey ?? s?.hotkey ?? lines[0]?.hotkey ?? null,
    registered: neuron !== undefined,
    state: s
      ? {
          mu: s.mu,
          sigma: s.sigma,
          ...payOf(s, ctx.config.hparams.scoring), // ordinal, evidence, payFactor, explanation
          bma: s.bma,
          finalScore: s.finalScore,
          syncScore: s.syncScore,
          stepsBehind: s.stepsBehind,
          banWindowsLeft: s.banWindowsLeft,
          inactiveSince: s.inactiveSince,
          updatedWindow: s.updatedWindow,
        }
      : null,
    weight: set ? { window: set.window, status: set.status, value: at < 0 ? 0 : (set.weights[at] ?? 0) } : null,
    lines,
  };
}

/** A uid's record as `GET /v1/miners/{uid}` answers it. */
export function minerJson(r: MinerRecord): MinerJson {
  const s = r.state;
  return {
    uid: r.uid,
    hotkey: r.hotkey,
    registered: r.registered,
    state: s && {
      mu: s.mu,
      sigma: s.sigma,
      ordinal: s.ordinal,
      evidence: s.evidence,
      pay_factor: s.payFactor,
      bma: s.bma,
      sync_score: s.syncScore,
      steps_behind: s.stepsBehind,
      final_score: s.finalScore,
      ban_windows_left: s.banWindowsLeft,
      inactive_since: s.inactiveSince,
      updated_window: s.updatedWindow,
      explanation: s.explanation,
    },
    weight: r.weight && { window: r.weight.window, status: r.weight.status, share: r.weight.value },
    recent: r.lines.map(scoreLineJson),
  };
}
