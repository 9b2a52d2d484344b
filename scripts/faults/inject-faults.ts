/**
 * The three faults of the fault suite, each injected at the moment an operator would least like
 * it, into a running local network:
 * - the runner killed (SIGKILL) in the middle of an evaluation batch, after its first submission;
 * - the validator killed (wrangler dev and workerd, SIGKILL) inside a put window while an upload
 *   awaits validation, and started again on the same port and state;
 * - the chain stalled (chopsticks SIGSTOPped) a few seconds into a put window, for a minute.
 * What was seen while each lasted is recorded beside it for the checks (fault-checks.ts).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { sleep } from "../../schema/api/retry.ts";
import { queryD1 } from "../dev/wrangler-dev.ts";
import type { LocalNetwork } from "../local-network/network.ts";

/** The runner killed mid-batch. */
export interface RunnerKill {
  readonly kind: "runner";
  readonly atMs: number;
  /** The lease it held, and the window of the batch. */
  readonly leaseId: number;
  readonly window: number;
  /** Submissions of the batch evaluated before the kill, of how many. */
  readonly done: number;
  readonly total: number;
}

/** The validator killed and started again. */
export interface ValidatorRestart {
  readonly kind: "validator";
  readonly atMs: number;
  readonly upAtMs: number;
  /** The window whose put window was open. */
  readonly window: number;
  /** The rowids of each durable table at the kill: every one of those rows must survive. */
  readonly rowsBefore: Readonly<Record<string, readonly number[]>>;
}

/** The chain stalled for a while. */
export interface ChainStall {
  readonly kind: "chain";
  readonly atMs: number;
  /** When it was let go on (SIGCONT). */
  readonly endMs: number;
  /** The window whose put window was open. */
  readonly window: number;
  /** GET /v1/windows/current during the stall: answered (and how slowly at worst), failed. */
  readonly clockAnswered: number;
  readonly clockFailed: number;
  readonly clockSlowestMs: number;
  /** When /v1/status first said the head was stale, and when it first said fresh again after the stall. */
  readonly staleSeenAtMs: number | null;
  readonly freshAgainAtMs: number | null;
}

export type InjectedFault = RunnerKill | ValidatorRestart | ChainStall;

/** The tables whose rows must all survive a validator restart. */
export const DURABLE_TABLES = [
  "submissions",
  "upload_refusals",
  "copy_fingerprints",
  "windows",
  "evaluation_batches",
  "evaluation_leases",
  "evaluations",
  "window_scores",
  "model_advances",
  "weight_sets",
] as const;

const POLL_MS = 200;

/** GET of the validator's JSON, or null when it does not answer in time or answers an error. */
async function tryJson<T>(url: string, timeoutMs = 5000): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? ((await res.json()) as T) : null;
  } catch {
    return null;
  }
}

interface CurrentWindow {
  readonly window: number;
  readonly put_window: { window: number; opens_at_ms: number; closes_at_ms: number } | null;
}

/** Whether /v1/status says the chain head is stale (null: no answer). */
async function headStale(url: string): Promise<boolean | null> {
  const status = await tryJson<{ chain?: { stale?: boolean } }>(`${url}/v1/status`);
  return status?.chain?.stale ?? null;
}

/**
 * Waits until a put window of at least `minWindow` has been open `intoMs` (but not `intoMs` + 5 s:
 * a window found later is let go for the next one) and has at least `leftMs` left; returns its window.
 */
async function putWindowOpen(net: LocalNetwork, minWindow: number, intoMs: number, leftMs: number): Promise<number> {
  for (;;) {
    const current = await tryJson<CurrentWindow>(`${net.url}/v1/windows/current`);
    const put = current?.put_window;
    const now = Date.now();
    const into = put ? now - put.opens_at_ms : -1;
    if (put && put.window >= minWindow && into >= intoMs && into <= intoMs + 5000 && now <= put.closes_at_ms - leftMs)
      return put.window;
    await sleep(POLL_MS);
  }
}

/** Waits for the runner's log to show the first submission of an evaluation batch of at least two done. */
async function runnerMidBatch(net: LocalNetwork): Promise<Omit<RunnerKill, "kind" | "atMs">> {
  const logPath = path.join(net.logDir, "runner.log");
  for (;;) {
    let text = "";
    try {
      text = readFileSync(logPath, "utf8");
    } catch {
      // not written yet
    }
    for (const line of text.split("\n")) {
      if (!line.includes('"submission.evaluated"')) continue;
      const e = JSON.parse(line) as { msg: string; lease_id: number; window: number; kind: string };
      const m = /^lease \d+: (\d+)\/(\d+) /.exec(e.msg);
      if (e.kind === "evaluate" && m && m[1] === "1" && Number(m[2]) >= 2)
        return { leaseId: e.lease_id, window: e.window, done: 1, total: Number(m[2]) };
    }
    await sleep(POLL_MS);
  }
}

/** Kills the runner right after the first submission of a batch of two or more; its supervisor starts it again. */
export async function killRunnerMidBatch(net: LocalNetwork): Promise<RunnerKill> {
  const runner = net.runner;
  if (!runner) throw new Error("the network runs no runner");
  const batch = await runnerMidBatch(net);
  const atMs = Date.now();
  runner.child.kill("SIGKILL");
  net.faults.note(
    `fault suite: killed the runner (SIGKILL) with lease ${batch.leaseId} ${batch.done}/${batch.total} done`,
  );
  return { kind: "runner", atMs, ...batch };
}

/**
 * Waits for the next put window of at least `minWindow` and polls its report from just before it
 * opens until an upload is stored but not yet validated (its validation message in flight: the
 * queue holds a small batch up to a second), or 10 s into it; returns the window.
 */
async function uploadAwaitingValidation(net: LocalNetwork, minWindow: number): Promise<number> {
  let next: { window: number; expected_opens_at_ms: number } | undefined;
  while (!next || next.window < minWindow) {
    next = (
      await tryJson<{ next_put_window: { window: number; expected_opens_at_ms: number } }>(
        `${net.url}/v1/windows/current`,
      )
    )?.next_put_window;
    if (!next || next.window < minWindow) await sleep(1000);
  }
  await sleep(next.expected_opens_at_ms - 1000 - Date.now());
  const until = next.expected_opens_at_ms + 10_000;
  while (Date.now() < until) {
    const report = await tryJson<{ submissions: Record<string, number> }>(`${net.url}/v1/windows/${next.window}`);
    if ((report?.submissions.received ?? 0) > 0) break;
    await sleep(25);
  }
  return next.window;
}

/**
 * Kills the validator in the next put window of at least `minWindow`, while an upload awaits
 * validation (see uploadAwaitingValidation); then starts it again.
 */
export async function restartValidatorInPutWindow(net: LocalNetwork, minWindow: number): Promise<ValidatorRestart> {
  const window = await uploadAwaitingValidation(net, minWindow);
  // What D1 holds at the kill, read while the validator is down (its state at rest).
  const rowsBefore: Record<string, number[]> = {};
  const { killedAtMs, upAtMs } = await net.restartValidator(async () => {
    const [lists] = await queryD1<Record<string, string | null>>(
      net.persistTo,
      `SELECT ${DURABLE_TABLES.map((t) => `(SELECT group_concat(rowid) FROM ${t}) AS ${t}`).join(", ")}`,
    );
    for (const t of DURABLE_TABLES) rowsBefore[t] = lists?.[t] ? (lists[t] as string).split(",").map(Number) : [];
  });
  return { kind: "validator", atMs: killedAtMs, upAtMs, window, rowsBefore };
}

/** Stalls the chain for `stallMs`, 2 s into a put window of at least `minWindow`, watching the validator meanwhile. */
export async function stallChainInPutWindow(
  net: LocalNetwork,
  minWindow: number,
  stallMs: number,
): Promise<ChainStall> {
  const window = await putWindowOpen(net, minWindow, 2000, 4000);
  const atMs = Date.now();
  process.kill(net.chainPid, "SIGSTOP");
  net.faults.note(`fault suite: stalled the chain (SIGSTOP) for ${(stallMs / 1000).toFixed(0)} s`);
  // The stall ends on time whatever the watching below is waiting for.
  let endMs = 0;
  const resumed = new Promise<void>((resolve) =>
    setTimeout(() => {
      process.kill(net.chainPid, "SIGCONT");
      endMs = Date.now();
      resolve();
    }, stallMs),
  );
  let clockAnswered = 0;
  let clockFailed = 0;
  let clockSlowestMs = 0;
  let staleSeenAtMs: number | null = null;
  while (endMs === 0) {
    const asked = Date.now();
    const current = await tryJson<CurrentWindow>(`${net.url}/v1/windows/current`, 20_000);
    clockSlowestMs = Math.max(clockSlowestMs, Date.now() - asked);
    if (current) clockAnswered++;
    else clockFailed++;
    if (staleSeenAtMs === null && (await headStale(net.url)) === true) staleSeenAtMs = Date.now();
    await Promise.race([sleep(1000), resumed]);
  }
  await resumed;
  net.faults.note("fault suite: let the chain go on (SIGCONT)", endMs);
  let freshAgainAtMs: number | null = null;
  while (freshAgainAtMs === null && Date.now() < endMs + 60_000) {
    if ((await headStale(net.url)) === false) freshAgainAtMs = Date.now();
    else await sleep(POLL_MS);
  }
  return {
    kind: "chain",
    atMs,
    endMs,
    window,
    clockAnswered,
    clockFailed,
    clockSlowestMs,
    staleSeenAtMs,
    freshAgainAtMs,
  };
}
