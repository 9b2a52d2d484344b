/**
 * What GET /v1/status reports: counts of the validator's moving parts (windows by state,
 * submissions by status in the latest windows, runner batches, runners and their last signs of
 * life, weight sets by status, intake paused or not) and latencies over the latest windows
 * (receipt → verdict, put-window close → evaluated and → scored, evaluation time on the runner).
 * Cron tick durations are not stored: they are the `duration_ms` of each "tick" log line.
 */

import { type IntakeState, intakeState } from "../admin/intake-pause.ts";
import { type ChainStatus, chainStatus } from "../clock/head-freshness.ts";
import type { WorkerContext } from "../context.ts";
import { type LatencySummary, summarizeLatencies } from "./latency-summary.ts";
import { RUNNERS_SQL, type RunnerRow, type RunnerStatus, runnerStatuses } from "./runner-status.ts";

export type { RunnerStatus };

/** Latest windows covered by default, and at most. */
export const STATUS_WINDOWS = 8;
export const MAX_STATUS_WINDOWS = 100;

export interface ValidatorStatus {
  readonly now_ms: number;
  readonly profile: string;
  readonly netuid: number;
  readonly intake: IntakeState;
  readonly chain_head: { readonly block: number; readonly timestamp_ms: number; readonly seen_at_ms: number } | null;
  /** The recorded head's freshness (stale: windows are not closed) and the latest chain failure. */
  readonly chain: ChainStatus;
  readonly windows: {
    readonly by_state: Readonly<Record<string, number>>;
    /** The windows the per-window counts and latencies cover, newest first. */
    readonly latest: readonly number[];
  };
  /** Per latest window: submissions by status, and refused attempts. */
  readonly submissions: readonly {
    readonly window: number;
    readonly state: string;
    readonly by_status: Readonly<Record<string, number>>;
    readonly refused: number;
  }[];
  /** Runner work by kind ("evaluate", "advance") and state ("pending", "leased", "done", "parked"). */
  readonly batches: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly runners: readonly RunnerStatus[];
  readonly weight_sets: {
    readonly by_status: Readonly<Record<string, number>>;
    readonly latest: {
      readonly id: number;
      readonly window: number;
      readonly status: string;
      readonly updated_at_ms: number;
      readonly last_error_code: string | null;
      /** How it goes on chain, chosen from chain state for each attempt (direct, hash-commit-reveal, timelocked). */
      readonly mode: string | null;
      /** Timelocked: the drand round it is encrypted to, and the first block of its expected reveal epoch. */
      readonly reveal_round: number | null;
      readonly reveal_epoch_start_block: number | null;
      /** The block its weights were set or (timelocked: status "set") revealed in; a dropped commit has status "dropped". */
      readonly set_block: number | null;
    } | null;
    /** The operator's WEIGHTS_MODE ("auto": the mode follows the chain). */
    readonly mode_preference: string;
  };
  readonly latencies: {
    readonly receipt_to_verdict: LatencySummary;
    readonly put_close_to_evaluated: LatencySummary;
    readonly put_close_to_scored: LatencySummary;
    readonly evaluation_total: LatencySummary;
  };
}

/** Rows of `{key, n}` as a record. */
function counts(rows: readonly { key: string; n: number }[]): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [r.key, r.n]));
}

/** The status over the latest `windows` windows that have a put window (default 8, clamped to 1…100). */
export async function validatorStatus(ctx: WorkerContext, windows = STATUS_WINDOWS): Promise<ValidatorStatus> {
  const windowCount = Math.min(Math.max(windows, 1), MAX_STATUS_WINDOWS);
  const { d1 } = ctx;
  const latestRows = await d1
    .prepare("SELECT window, state FROM windows WHERE put_opens_at_ms IS NOT NULL ORDER BY window DESC LIMIT ?")
    .bind(windowCount)
    .all<{ window: number; state: string }>();
  const latest = latestRows.results.map((r) => r.window);
  const from = latest.length ? Math.min(...latest) : Number.MAX_SAFE_INTEGER;
  const [
    byState,
    subs,
    refused,
    batches,
    runnerRows,
    setsByStatus,
    latestSet,
    head,
    verdicts,
    evaluated,
    scored,
    totals,
  ] = await d1.batch([
    d1.prepare("SELECT state AS key, count(*) AS n FROM windows GROUP BY state"),
    d1
      .prepare("SELECT window, status, count(*) AS n FROM submissions WHERE window >= ? GROUP BY window, status")
      .bind(from),
    d1.prepare("SELECT window, count(*) AS n FROM upload_refusals WHERE window >= ? GROUP BY window").bind(from),
    d1.prepare("SELECT kind, state, count(*) AS n FROM evaluation_batches GROUP BY kind, state"),
    d1.prepare(RUNNERS_SQL),
    d1.prepare("SELECT status AS key, count(*) AS n FROM weight_sets GROUP BY status"),
    d1.prepare(
      `SELECT id, window, status, updated_at_ms, last_error_code, mode, reveal_round, reveal_epoch_start_block, set_block
         FROM weight_sets ORDER BY id DESC LIMIT 1`,
    ),
    d1.prepare("SELECT block, timestamp_ms, seen_at_ms FROM chain_head WHERE id = 1"),
    d1
      .prepare(
        "SELECT validated_at_ms - received_at_ms AS ms FROM submissions WHERE window >= ? AND validated_at_ms IS NOT NULL",
      )
      .bind(from),
    d1
      .prepare(
        `SELECT max(b.completed_at_ms) - w.put_closes_at_ms AS ms FROM windows w
           JOIN evaluation_batches b ON b.window = w.window AND b.kind = 'evaluate' AND b.state = 'done'
           WHERE w.window >= ? AND w.state IN ('evaluated', 'scored')
             AND NOT EXISTS (SELECT 1 FROM evaluation_batches p WHERE p.window = w.window AND p.kind = 'evaluate' AND p.state != 'done')
           GROUP BY w.window`,
      )
      .bind(from),
    d1
      .prepare(
        `SELECT min(s.created_at_ms) - w.put_closes_at_ms AS ms FROM windows w
           JOIN window_scores s ON s.window = w.window WHERE w.window >= ? GROUP BY w.window`,
      )
      .bind(from),
    d1.prepare("SELECT total_ms AS ms FROM evaluations WHERE window >= ?").bind(from),
  ]);

  const subsByWindow = new Map<number, Record<string, number>>();
  for (const r of (subs?.results ?? []) as { window: number; status: string; n: number }[]) {
    const row = subsByWindow.get(r.window) ?? {};
    row[r.status] = r.n;
    subsByWindow.set(r.window, row);
  }
  const refusedByWindow = new Map(
    ((refused?.results ?? []) as { window: number; n: number }[]).map((r) => [r.window, r.n]),
  );
  const batchCounts: Record<string, Record<string, number>> = {};
  for (const r of (batches?.results ?? []) as { kind: string; state: string; n: number }[]) {
    batchCounts[r.kind] = { ...batchCounts[r.kind], [r.state]: r.n };
  }
  const ms = (result: D1Result | undefined) => ((result?.results ?? []) as { ms: number | null }[]).map((r) => r.ms);
  const set = latestSet?.results[0] as NonNullable<ValidatorStatus["weight_sets"]["latest"]> | undefined;
  const chainHead = head?.results[0] as { block: number; timestamp_ms: number; seen_at_ms: number } | undefined;
  return {
    now_ms: ctx.now(),
    profile: ctx.config.hparams.profile,
    netuid: ctx.config.netuid,
    intake: await intakeState(ctx.db),
    chain_head: chainHead ?? null,
    chain: await chainStatus(ctx.db, ctx.config.hparams.window, ctx.now()),
    windows: { by_state: counts((byState?.results ?? []) as { key: string; n: number }[]), latest },
    submissions: latestRows.results.map((w) => ({
      window: w.window,
      state: w.state,
      by_status: subsByWindow.get(w.window) ?? {},
      refused: refusedByWindow.get(w.window) ?? 0,
    })),
    batches: batchCounts,
    runners: runnerStatuses((runnerRows?.results ?? []) as RunnerRow[], ctx),
    weight_sets: {
      by_status: counts((setsByStatus?.results ?? []) as { key: string; n: number }[]),
      latest: set ?? null,
      mode_preference: ctx.config.weightsMode,
    },
    latencies: {
      receipt_to_verdict: summarizeLatencies(ms(verdicts)),
      put_close_to_evaluated: summarizeLatencies(ms(evaluated)),
      put_close_to_scored: summarizeLatencies(ms(scored)),
      evaluation_total: summarizeLatencies(ms(totals)),
    },
  };
}
