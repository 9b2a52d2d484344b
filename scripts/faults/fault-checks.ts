/**
 * What the fault suite asserts once the run is over, read from the validator's D1 and the window
 * reports: no row lost or counted twice, every honest upload of every window accepted and
 * evaluated, each window done within its budget plus the duration of the faults it met, and how
 * long each fault took to recover from.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { type Hparams, leaseLifeMs } from "../../schema/hparams.ts";
import { queryD1 } from "../dev/wrangler-dev.ts";
import type { FaultNote } from "../local-network/fault-log.ts";
import type { WindowRecord } from "../local-network/window-log.ts";
import {
  type ChainStall,
  DURABLE_TABLES,
  type InjectedFault,
  type RunnerKill,
  type ValidatorRestart,
} from "./inject-faults.ts";

/** One assertion of the suite. */
export interface FaultCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** How long a fault took to recover from, in the suite's words. */
export interface Recovery {
  readonly fault: string;
  /** How long the fault itself lasted (0: an instant, like a kill). */
  readonly faultMs: number;
  /** From the fault's start to the system doing its work again. */
  readonly recoveredMs: number | null;
  /** What the time beyond the fault is measured in: the heartbeat interval (runner) or the block time. */
  readonly unit: { readonly name: string; readonly ms: number };
  readonly what: string;
}

export interface FaultFindings {
  readonly checks: readonly FaultCheck[];
  readonly recoveries: readonly Recovery[];
  /** Per window: put-window close to outer step done, and what the suite allowed. */
  readonly windows: readonly { window: number; doneMs: number; allowedMs: number }[];
}

/**
 * The slowest window-clock answer allowed during the chain stall: the validator waits 2 s for a
 * hung chain before it answers from D1, and a miner that waits longer can miss a put window.
 * The rest is slack for a loaded machine.
 */
const CLOCK_ANSWER_MS = 5_000;

const s = (ms: number | null) => (ms === null ? "—" : `${(ms / 1000).toFixed(1)} s`);

/** The interval a fault held something up: a kill lasts until the work is re-leased, a restart until the validator answers, a stall until SIGCONT. */
function faultSpan(f: InjectedFault, reLeasedAtMs: number | null): [number, number] {
  if (f.kind === "runner") return [f.atMs, reLeasedAtMs ?? f.atMs];
  if (f.kind === "validator") return [f.atMs, f.upAtMs];
  return [f.atMs, f.endMs];
}

/** Examines a finished run. `honestUids` must have a valid, evaluated upload in every reported window. */
export async function examineRun(input: {
  readonly persistTo: string;
  /** The network's logs (the runner's tells when it started again). */
  readonly logDir: string;
  readonly hparams: Hparams;
  readonly records: readonly WindowRecord[];
  readonly honestUids: readonly number[];
  readonly faults: readonly InjectedFault[];
  readonly notes: readonly FaultNote[];
}): Promise<FaultFindings> {
  const { persistTo, hparams, records, honestUids, faults } = input;
  const sql = <T>(q: string) => queryD1<T>(persistTo, q);
  const checks: FaultCheck[] = [];
  const recoveries: Recovery[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const heartbeatMs = hparams.evaluation.heartbeat_seconds * 1000;
  const missed = hparams.evaluation.missed_heartbeats;

  // Every honest miner's upload of every reported window: accepted, valid, evaluated without error.
  const windows = records.map((r) => r.window);
  const rows = windows.length
    ? await sql<{ window: number; uid: number; status: string; evaluated: number; error_code: string | null }>(
        `SELECT s.window, s.uid, s.status, e.submission_id IS NOT NULL AS evaluated, e.error_code
           FROM submissions s LEFT JOIN evaluations e ON e.submission_id = s.id
          WHERE s.window IN (${windows.join(",")}) AND s.uid IN (${honestUids.join(",")})`,
      )
    : [];
  const missing: string[] = [];
  for (const w of windows)
    for (const uid of honestUids) {
      const row = rows.find((r) => r.window === w && r.uid === uid);
      if (!row) missing.push(`window ${w} uid ${uid}: no upload`);
      else if (row.status !== "valid") missing.push(`window ${w} uid ${uid}: ${row.status}`);
      else if (!row.evaluated || row.error_code)
        missing.push(`window ${w} uid ${uid}: not evaluated (${row.error_code})`);
    }
  check(
    "every honest upload accepted and evaluated",
    missing.length === 0 && windows.length > 0,
    missing.length ? missing.join("; ") : `${honestUids.length} honest miners × windows ${windows.join(", ")}`,
  );

  // Nothing counted twice: one score line per (window, uid), one outer step per window, one evaluation per submission.
  const doubles = await sql<{ what: string; n: number }>(
    `SELECT 'score' AS what, count(*) AS n FROM (SELECT 1 FROM window_scores GROUP BY window, uid HAVING count(*) > 1)
     UNION ALL SELECT 'evaluation', count(*) FROM (SELECT 1 FROM evaluations GROUP BY submission_id HAVING count(*) > 1)
     UNION ALL SELECT 'completed batch', count(*) FROM (SELECT 1 FROM evaluation_leases WHERE outcome = 'completed' GROUP BY batch_id HAVING count(*) > 1)`,
  );
  check(
    "nothing counted twice",
    doubles.every((d) => d.n === 0),
    doubles.map((d) => `${d.what} duplicates ${d.n}`).join(", "),
  );

  let reLeasedAtMs: number | null = null;
  for (const f of faults) {
    if (f.kind === "runner") reLeasedAtMs = await runnerRecovery(f);
    if (f.kind === "validator") await validatorRecovery(f);
    if (f.kind === "chain") chainRecovery(f);
  }

  // Each window done within its budget (one window's length, from its put window's close to its
  // outer step) plus the time of the faults that overlapped it.
  const budgetMs = hparams.window.blocks_per_window * hparams.window.block_time_ms;
  const timings = records.map((r) => {
    const closes = r.report.put_window?.closes_at_ms ?? 0;
    const done = r.report.outer_step?.completed_at_ms ?? Number.POSITIVE_INFINITY;
    const overlap = faults
      .map((f) => faultSpan(f, reLeasedAtMs))
      .filter(([a, b]) => b >= (r.report.put_window?.opens_at_ms ?? 0) && a <= done)
      .reduce((sum, [a, b]) => sum + (b - a), 0);
    return { window: r.window, doneMs: done - closes, allowedMs: budgetMs + overlap };
  });
  const late = timings.filter((t) => t.doneMs > t.allowedMs);
  check(
    "each window done within its budget plus its faults",
    late.length === 0,
    timings.map((t) => `window ${t.window} ${s(t.doneMs)} of ${s(t.allowedMs)}`).join(", "),
  );
  return { checks, recoveries, windows: timings };

  async function runnerRecovery(f: RunnerKill): Promise<number | null> {
    const [killed] = await sql<{ batch_id: number; expires_at_ms: number; outcome: string }>(
      `SELECT batch_id, expires_at_ms, outcome FROM evaluation_leases WHERE id = ${f.leaseId}`,
    );
    const [next] = killed
      ? await sql<{ leased_at_ms: number | null; completed_at_ms: number | null }>(
          `SELECT (SELECT min(leased_at_ms) FROM evaluation_leases WHERE batch_id = ${killed.batch_id} AND id > ${f.leaseId}) AS leased_at_ms,
                  (SELECT completed_at_ms FROM evaluation_batches WHERE id = ${killed.batch_id}) AS completed_at_ms`,
        )
      : [];
    const expiredMs = killed ? killed.expires_at_ms - f.atMs : null;
    const reLeased = next?.leased_at_ms ?? null;
    check(
      "the killed runner's lease expired from missed heartbeats",
      killed?.outcome === "expired" && expiredMs !== null && expiredMs <= leaseLifeMs(hparams.evaluation),
      `lease ${f.leaseId} ${killed?.outcome ?? "missing"}, expiry ${s(expiredMs)} after the kill (${missed} × ${s(heartbeatMs)} allowed)`,
    );
    // Re-leased at the first request after the expiry: the restarted runner asks at once, then
    // every second on the local network (at least once a heartbeat interval anywhere).
    const restartedAtMs = runnerStartedAfter(f.atMs);
    const reLeasedMs = reLeased === null ? null : reLeased - f.atMs;
    const askedBy =
      killed && restartedAtMs !== null ? Math.max(killed.expires_at_ms, restartedAtMs) + heartbeatMs : null;
    check(
      "the killed runner's batch re-leased at the first request after its lease expired",
      reLeased !== null && askedBy !== null && reLeased <= askedBy,
      `re-leased ${s(reLeasedMs)} after the kill (${((reLeasedMs ?? 0) / heartbeatMs).toFixed(1)} heartbeat intervals; ` +
        `the runner was running again ${s(restartedAtMs === null ? null : restartedAtMs - f.atMs)} after it), ` +
        `done ${s(next?.completed_at_ms ? next.completed_at_ms - f.atMs : null)} after it`,
    );
    recoveries.push({
      fault: `runner killed mid-batch (lease ${f.leaseId}, ${f.done} of ${f.total} done)`,
      faultMs: 0,
      recoveredMs: reLeasedMs,
      unit: { name: "heartbeat intervals", ms: heartbeatMs },
      what: `batch re-leased; its evaluations recorded ${s(next?.completed_at_ms ? next.completed_at_ms - f.atMs : null)} after the kill`,
    });
    return reLeased;
  }

  /** When the runner's log says it started after `atMs` (its `runner.started` line), or null. */
  function runnerStartedAfter(atMs: number): number | null {
    const lines = readFileSync(path.join(input.logDir, "runner.log"), "utf8").split("\n");
    for (const line of lines) {
      if (!line.includes('"runner.started"')) continue;
      const ts = Date.parse((JSON.parse(line) as { ts: string }).ts);
      if (ts >= atMs) return ts;
    }
    return null;
  }

  async function validatorRecovery(f: ValidatorRestart): Promise<void> {
    const [after] = await sql<Record<string, number>>(
      `SELECT ${DURABLE_TABLES.map((t) => `(SELECT count(*) FROM ${t} WHERE rowid IN (${(f.rowsBefore[t] ?? []).join(",")})) AS ${t}`).join(", ")}`,
    );
    const lost = DURABLE_TABLES.filter((t) => (after?.[t] ?? -1) !== f.rowsBefore[t]?.length);
    check(
      "no row lost across the validator restart",
      lost.length === 0,
      DURABLE_TABLES.map((t) => `${t} ${after?.[t]}/${f.rowsBefore[t]?.length}`).join(", "),
    );
    // Uploads received before the kill and not yet validated: redelivered as soon as the validator is up.
    const pending = await sql<{ id: number; validated_at_ms: number | null }>(
      `SELECT id, validated_at_ms FROM submissions WHERE received_at_ms < ${f.atMs}
          AND (validated_at_ms IS NULL OR validated_at_ms > ${f.atMs})`,
    );
    const slowest = pending.reduce(
      (m, p) => Math.max(m, (p.validated_at_ms ?? Number.POSITIVE_INFINITY) - f.upAtMs),
      0,
    );
    check(
      "validations in flight at the restart redelivered at once (not after a 60 s sweep)",
      slowest <= 15_000,
      pending.length
        ? `${pending.length} pending, all validated within ${s(slowest)} of the restart`
        : "none was in flight",
    );
    recoveries.push({
      fault: `validator killed and restarted in the put window of window ${f.window}`,
      faultMs: f.upAtMs - f.atMs,
      recoveredMs: f.upAtMs - f.atMs + Math.max(0, pending.length ? slowest : 0),
      unit: { name: "block times", ms: hparams.window.block_time_ms },
      what: `answering ${s(f.upAtMs - f.atMs)} after the kill; ${pending.length} validation(s) in flight done ${pending.length ? s(slowest) : "—"} later`,
    });
  }

  function chainRecovery(f: ChainStall): void {
    const blocksAgain = input.notes.find((n) => n.atMs >= f.endMs && /builds blocks again/.test(n.text));
    check(
      `the window clock answered throughout the chain stall, each within ${s(CLOCK_ANSWER_MS)}`,
      f.clockFailed === 0 && f.clockAnswered > 0 && f.clockSlowestMs <= CLOCK_ANSWER_MS,
      `${f.clockAnswered} answered, ${f.clockFailed} failed, slowest ${s(f.clockSlowestMs)}`,
    );
    const staleAllowedMs = hparams.window.stale_head_blocks * hparams.window.block_time_ms + 10_000;
    check(
      "the stale head flagged in /v1/status during the stall, and fresh again after it",
      f.staleSeenAtMs !== null && f.staleSeenAtMs - f.atMs <= staleAllowedMs && f.freshAgainAtMs !== null,
      `stale seen ${s(f.staleSeenAtMs === null ? null : f.staleSeenAtMs - f.atMs)} into the stall, fresh ${s(f.freshAgainAtMs === null ? null : f.freshAgainAtMs - f.endMs)} after it`,
    );
    check(
      "the local chain builds blocks again after the stall",
      blocksAgain !== undefined,
      blocksAgain ? `${s(blocksAgain.atMs - f.endMs)} after SIGCONT` : "no block after the stall",
    );
    recoveries.push({
      fault: `chain stalled (SIGSTOP) 2 s into the put window of window ${f.window}`,
      faultMs: f.endMs - f.atMs,
      recoveredMs: f.freshAgainAtMs === null ? null : f.freshAgainAtMs - f.atMs,
      unit: { name: "block times", ms: hparams.window.block_time_ms },
      what: `blocks again ${s(blocksAgain ? blocksAgain.atMs - f.endMs : null)} and the validator's head fresh ${s(f.freshAgainAtMs === null ? null : f.freshAgainAtMs - f.endMs)} after SIGCONT; window clock ${f.clockAnswered}/${f.clockAnswered + f.clockFailed} answered during it`,
    });
  }
}
