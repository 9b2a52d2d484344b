/**
 * The window lifecycle: the states a window goes through (schema/db/chain.ts), the legal
 * transitions between them, and each transition as a guarded statement that commits in one D1
 * transaction with the rows it implies. docs/ARCHITECTURE.md draws it.
 *
 * A transaction is `[guard, …implied rows, state change]`. The guard appends the transition to
 * `window_transitions`, and that table's constraints make it fail, rolling back everything with
 * it, unless the transition is legal at that moment: a from-state it does not start from gives a
 * NULL from_state, an unmet condition a NULL to_state, a compare-and-set that lost the race a
 * duplicate seq. So the implied rows need no guards of their own, and of two concurrent attempts
 * at the same transition exactly one commits.
 *
 * The clock records a window in the state its put window implies (`recordedState`); from there
 * only the transitions below move it.
 */
import type { WindowState } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { WorkerContext } from "../context.ts";
import { constraintViolation } from "../d1.ts";

export interface TransitionRule {
  readonly from: readonly WindowState[];
  readonly to: WindowState;
  /** A condition besides the from-state, in SQL over `w` (the window's number) and ?2 (now, Unix ms). */
  readonly when?: (w: string) => string;
  /** The condition in words, for refusals. */
  readonly whenText?: string;
  /** Who takes it, and the rows it implies. */
  readonly implies: string;
}

/**
 * θ_S is settled: window S−1 is not still being validated or evaluated (its outer step is queued
 * when it is evaluated), and its outer step is done or given up (parked), or there is none.
 */
const outerStepSettled = (w: string) =>
  `NOT EXISTS (SELECT 1 FROM windows prev WHERE prev.window = ${w} - 1 AND prev.state IN ('put_closed', 'validated', 'evaluating'))
   AND NOT EXISTS (SELECT 1 FROM evaluation_batches WHERE kind = 'advance' AND window = ${w} - 1 AND state IN ('pending', 'leased'))`;

export const WINDOW_TRANSITIONS = {
  close_put: {
    from: ["training", "put_open"],
    to: "put_closed",
    // Both clocks: the Worker's (as intake judges receipts) and the chain's. A head past the close
    // is what proves the chain moved on; without it (a stalled or unreachable chain, a stale
    // recorded head) the window stays open rather than closing on a clock nobody confirmed.
    when: (w) =>
      `(SELECT put_closes_at_ms FROM windows WHERE window = ${w}) < ?2
       AND (SELECT put_closes_at_ms FROM windows WHERE window = ${w}) < (SELECT timestamp_ms FROM chain_head WHERE id = 1)`,
    whenText: "its put window has closed by the Worker's clock and a recorded head's block is past its close",
    implies: "nothing else (the cron tick)",
  },
  validate: {
    from: ["training", "put_open", "put_closed"],
    to: "validated",
    implies: "copy detection's flags and the offenders' `copied` verdicts",
  },
  dispatch: {
    from: ["validated"],
    to: "evaluating",
    when: outerStepSettled,
    whenText: "the window before is evaluated and its outer step done or parked",
    implies: "the evaluation batches and their items (the cron tick)",
  },
  skip_evaluation: {
    from: ["validated"],
    to: "evaluated",
    when: outerStepSettled,
    whenText: "the window before is evaluated and its outer step done or parked",
    implies: "the outer step's job and its (empty) peer list: no valid submission to evaluate (the cron tick)",
  },
  complete: {
    from: ["evaluating"],
    to: "evaluated",
    when: (w) =>
      `NOT EXISTS (SELECT 1 FROM evaluation_batches WHERE window = ${w} AND kind = 'evaluate' AND state IN ('pending', 'leased'))`,
    whenText: "no evaluation batch of the window is pending or leased",
    implies: "the outer step's job and its peer list, chosen from the evaluations (a runner's results, the cron tick)",
  },
  score: {
    from: ["evaluated"],
    to: "scored",
    when: (w) =>
      `NOT EXISTS (SELECT 1 FROM windows earlier WHERE earlier.window < ${w} AND earlier.state IN ('put_closed', 'validated', 'evaluating'))`,
    whenText: "no earlier window is still being validated or evaluated (scores carry over)",
    implies: "score lines, uid states and, on a weights window, its weight set (the cron tick)",
  },
  rerun: {
    from: ["evaluating", "evaluated"],
    to: "evaluating",
    implies:
      "an admin action, the archived evaluations, revoked leases, evaluation batches back to pending (an operator)",
  },
} as const satisfies Record<string, TransitionRule>;

export type WindowTransition = keyof typeof WINDOW_TRANSITIONS;

export interface TransitionOptions {
  /**
   * Compare-and-set: commit only if no transition happened since `windowState` read this seq
   * (for a transition that can start from the state it ends in, like rerun).
   */
  readonly expectSeq?: number;
}

/** The state a window is recorded in when the clock learns of it: by its put window, if known. */
export function recordedState(put: { readonly closesAtMs: number } | null, now: number): WindowState {
  if (!put) return "training";
  return now > put.closesAtMs ? "put_closed" : "put_open";
}

/** A window's state and the seq of its latest transition (0 before the first); null if it is not recorded. */
export async function windowState(
  d1: D1Database,
  window: number,
): Promise<{ readonly state: WindowState; readonly seq: number } | null> {
  return d1
    .prepare(
      `SELECT state, coalesce((SELECT max(seq) FROM window_transitions t WHERE t.window = w.window), 0) AS seq
       FROM windows w WHERE w.window = ?`,
    )
    .bind(window)
    .first<{ state: WindowState; seq: number }>();
}

const sqlList = (states: readonly string[]) => states.map((s) => `'${s}'`).join(", ");

/** Whether `window` can take `name` now (in one of its from-states, its condition met): the guard's rule, read without writing. */
export async function isReady(
  ctx: Pick<WorkerContext, "d1" | "now">,
  name: WindowTransition,
  window: number,
): Promise<boolean> {
  const rule: TransitionRule = WINDOW_TRANSITIONS[name];
  const when = rule.when?.("w.window") ?? "1";
  const row = await ctx.d1
    .prepare(`SELECT 1 AS ready FROM windows w WHERE window = ?1 AND state IN (${sqlList(rule.from)}) AND ${when}`)
    .bind(window, ...(when.includes("?2") ? [ctx.now()] : []))
    .first<{ ready: number }>();
  return row !== null;
}

/** The windows `name` can take now (in one of its from-states, its condition met), oldest first. */
export async function windowsReadyFor(
  ctx: Pick<WorkerContext, "d1" | "now">,
  name: WindowTransition,
  limit = 100,
): Promise<number[]> {
  const rule: TransitionRule = WINDOW_TRANSITIONS[name];
  const when = rule.when?.("w.window") ?? "1";
  const rows = await ctx.d1
    .prepare(`SELECT window FROM windows w WHERE state IN (${sqlList(rule.from)}) AND ${when} ORDER BY window LIMIT ?1`)
    .bind(limit, ...(when.includes("?2") ? [ctx.now()] : []))
    .all<{ window: number }>();
  return rows.results.map((r) => r.window);
}

/**
 * The two statements of a transition: `guard` goes first in its D1 batch, `change` last, the
 * rows the transition implies between them.
 */
export function transitionStatements(
  d1: D1Database,
  name: WindowTransition,
  window: number,
  now: number,
  options: TransitionOptions = {},
): { readonly guard: D1PreparedStatement; readonly change: D1PreparedStatement } {
  const rule: TransitionRule = WINDOW_TRANSITIONS[name];
  const seq =
    options.expectSeq === undefined
      ? "coalesce((SELECT max(seq) FROM window_transitions WHERE window = ?1), 0) + 1"
      : "?5 + 1";
  const guard = d1
    .prepare(
      `INSERT INTO window_transitions (window, seq, transition, from_state, to_state, at_ms)
       SELECT ?1, ${seq}, ?3,
         (SELECT state FROM windows WHERE window = ?1 AND state IN (${sqlList(rule.from)})),
         CASE WHEN ${rule.when?.("?1") ?? "1"} THEN ?4 END,
         ?2`,
    )
    .bind(window, now, name, rule.to, ...(options.expectSeq === undefined ? [] : [options.expectSeq]));
  const change = d1
    .prepare("UPDATE windows SET state = ?, updated_at_ms = ? WHERE window = ?")
    .bind(rule.to, now, window);
  return { guard, change };
}

/** A failed transaction's guard violation, if the guard is what failed it. */
function guardViolation(err: unknown): ReturnType<typeof constraintViolation> {
  const v = constraintViolation(err);
  const guard =
    (v?.kind === "NOT NULL" && /^window_transitions\.(from|to)_state$/.test(v.target)) ||
    (v?.kind === "UNIQUE" && v.target === "window_transitions.window, window_transitions.seq");
  return guard ? v : undefined;
}

/** Runs the transaction of a transition: the implied statements' results, or the guard's violation. */
async function attempt(
  ctx: Pick<WorkerContext, "d1" | "now">,
  name: WindowTransition,
  window: number,
  implied: readonly D1PreparedStatement[],
  options: TransitionOptions,
): Promise<D1Result[] | { readonly refused: { kind: string; target: string } }> {
  const { guard, change } = transitionStatements(ctx.d1, name, window, ctx.now(), options);
  try {
    const results = await ctx.d1.batch([guard, ...implied, change]);
    return results.slice(1, -1);
  } catch (e) {
    const refused = guardViolation(e);
    if (refused) return { refused };
    throw e;
  }
}

/**
 * Commits `name` on `window` with the rows it implies, in one D1 transaction, and returns their
 * results. WINDOW_STATE_CONFLICT, with nothing written, where the transition is not legal now.
 */
export async function commitTransition(
  ctx: Pick<WorkerContext, "d1" | "now">,
  name: WindowTransition,
  window: number,
  implied: readonly D1PreparedStatement[] = [],
  options: TransitionOptions = {},
): Promise<D1Result[]> {
  const outcome = await attempt(ctx, name, window, implied, options);
  if ("refused" in outcome) throw await refusal(ctx.d1, name, window, outcome.refused.target);
  return outcome;
}

/** commitTransition, or null where the transition is refused (not due yet, or another writer took it). */
export async function tryTransition(
  ctx: Pick<WorkerContext, "d1" | "now">,
  name: WindowTransition,
  window: number,
  implied: readonly D1PreparedStatement[] = [],
  options: TransitionOptions = {},
): Promise<D1Result[] | null> {
  const outcome = await attempt(ctx, name, window, implied, options);
  return "refused" in outcome ? null : outcome;
}

/** Why the guard refused `name` on `window` (`violated`: the guard's column), as WINDOW_STATE_CONFLICT. */
async function refusal(d1: D1Database, name: WindowTransition, window: number, violated: string): Promise<EdgeError> {
  const rule: TransitionRule = WINDOW_TRANSITIONS[name];
  const now = await windowState(d1, window);
  const details = { window, transition: name, state: now?.state ?? null, from: rule.from };
  let why: string;
  if (!now) why = `window ${window} is not recorded`;
  else if (!rule.from.includes(now.state))
    why = `window ${window} is ${now.state}; ${name} starts from ${rule.from.join(" or ")}`;
  else if (violated.endsWith("to_state")) why = `window ${window} is ${now.state}, but not yet: ${rule.whenText}`;
  else why = `window ${window} changed state since it was read (another ${name}?)`;
  return new EdgeError("WINDOW_STATE_CONFLICT", why, details);
}
