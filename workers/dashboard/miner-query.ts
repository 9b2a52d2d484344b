/**
 * What the dashboard's page of one uid shows, read from D1 in one batch: its carried state, its
 * registration, its latest score lines (the history, line by line) and its weight now.
 */
import { desc, eq } from "drizzle-orm";
import { neurons, uidStates, weightSets, windowScores } from "../../schema/db/index.ts";
import { ordinal } from "../../schema/scoring/openskill-match.ts";
import type { WorkerContext } from "../context.ts";

/** Lines on a uid's page (and points in its chart). */
export const HISTORY_WINDOWS = 100;

export type ScoreLineRow = typeof windowScores.$inferSelect;

export interface MinerView {
  readonly uid: number;
  /** The registered hotkey, else the hotkey of the latest state or line. */
  readonly hotkey: string | null;
  readonly registered: boolean;
  readonly state: {
    readonly mu: number | null;
    readonly sigma: number | null;
    readonly ordinal: number | null;
    readonly bma: number;
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

/** The view model of a uid's page; null when the validator has never heard of the uid. */
export async function minerPage(ctx: WorkerContext, uid: number): Promise<MinerView | null> {
  const db = ctx.db;
  const [stateRows, neuronRows, lines, setRows] = await db.batch([
    db.select().from(uidStates).where(eq(uidStates.uid, uid)),
    db.select({ hotkey: neurons.hotkey }).from(neurons).where(eq(neurons.uid, uid)),
    db
      .select()
      .from(windowScores)
      .where(eq(windowScores.uid, uid))
      .orderBy(desc(windowScores.window))
      .limit(HISTORY_WINDOWS),
    db
      .select({
        window: weightSets.window,
        status: weightSets.status,
        uids: weightSets.uids,
        weights: weightSets.weights,
      })
      .from(weightSets)
      .orderBy(desc(weightSets.window))
      .limit(1),
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
          ordinal: s.mu != null && s.sigma != null ? ordinal({ mu: s.mu, sigma: s.sigma }) : null,
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
