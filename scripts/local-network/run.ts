/**
 * A run of the local network: start it, report each window as the validator finishes it
 * (scored, outer step applied), stop after `windows` windows or when asked, stop everything.
 * A validator that does not answer for a while (a restart) or a chain that stalls delays the
 * reports, never ends the run; each window line carries the faults noted since the previous one.
 */
import type { ScoreLineJson, WeightSetJson, WindowReportJson } from "../../schema/api/public.ts";
import { answerError, isTransient, sleep } from "../../schema/api/retry.ts";
import { getHparams } from "../../schema/hparams.ts";
import { seconds } from "./fault-log.ts";
import type { MinerSpec } from "./lineup.ts";
import { DEFAULT_PROFILE, type LocalNetwork, startLocalNetwork } from "./network.ts";
import { chainWeightShares, type Roster, type WindowRecord } from "./window-log.ts";

export interface RunOptions {
  readonly lineup: readonly MinerSpec[];
  readonly dir: string;
  /** Stop after this many windows are reported (default: until `stopSignal`). */
  readonly windows?: number;
  readonly stopSignal?: AbortSignal;
  readonly log: (line: string) => void;
  /** The hparams profile (default `local`). */
  readonly profile?: string;
  readonly onWindow?: (record: WindowRecord, roster: Roster) => void;
  /** Runs beside the reports once the network is up (the fault suite injects its faults here); its failure ends the run. */
  readonly during?: (network: LocalNetwork) => Promise<void>;
}

export interface RunResult {
  readonly records: readonly WindowRecord[];
  readonly roster: Roster;
}

const POLL_MS = 2000;
/** A read of the validator or the chain that takes longer than this is tried again at the next poll. */
const READ_TIMEOUT_MS = 10_000;

/** A GET of the validator's JSON; null on 404. */
async function getJson<T>(url: string): Promise<T | null> {
  const res = await fetch(url, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
  if (res.status === 404) return null;
  // A 5xx (a proxy's page during a restart, CHAIN_UNAVAILABLE) is transient: the poll waits it out.
  if (!res.ok) throw await answerError(res, `GET ${url}`);
  return (await res.json()) as T;
}

/** `read()`, or an error if it has not settled within `ms` (a stalled chain holds a WebSocket call for a minute). */
function within<T>(ms: number, what: string, read: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(Object.assign(new Error(`${what}: no answer in ${ms} ms`), { name: "TimeoutError" })),
      ms,
    );
    read()
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

/** Follows the validator window by window from the first one the miners can take part in. */
async function followWindows(network: LocalNetwork, roster: Roster, opts: RunOptions): Promise<WindowRecord[]> {
  const records: WindowRecord[] = [];
  const current = async () => (await getJson<{ window: number }>(`${network.url}/v1/windows/current`))?.window ?? 0;
  const stop = AbortSignal.any([network.failed, ...(opts.stopSignal ? [opts.stopSignal] : [])]);
  let unreachableSince: number | undefined;
  /** One poll of window `next`: reported, skipped (the validator never saw it), or not done yet. */
  const poll = async (next: number): Promise<"reported" | "skip" | "wait"> => {
    const report = await getJson<WindowReportJson>(`${network.url}/v1/windows/${next}`);
    if (report?.state === "scored" && report.outer_step?.completed_at_ms) {
      const sets = await getJson<{ weight_sets: WeightSetJson[] }>(`${network.url}/v1/weights/sets?limit=1`);
      const scores = await getJson<{ scores: ScoreLineJson[] }>(`${network.url}/v1/scores/${next}`);
      const chainWeights = await within(READ_TIMEOUT_MS, "the weights on chain", () =>
        chainWeightShares(network.api, network.netuid, network.validatorUid),
      );
      const record: WindowRecord = {
        window: next,
        report,
        scores: scores?.scores ?? [],
        chainWeights,
        weightSet: sets?.weight_sets[0] ?? null,
        faults: network.faults.drain(),
      };
      records.push(record);
      opts.onWindow?.(record, roster);
      return "reported";
    }
    // the validator never saw it (started late): nothing to report
    if (!report && next < (await current()) - 2) return "skip";
    return "wait";
  };
  // From the window the miners start in (they join it if there is time to train before its put window).
  let next: number | undefined;
  while (!stop.aborted && (opts.windows === undefined || records.length < opts.windows)) {
    try {
      next ??= await current();
      const outcome = await poll(next);
      if (unreachableSince !== undefined) {
        network.faults.note(`the validator and the chain answer again after ${seconds(Date.now() - unreachableSince)}`);
        unreachableSince = undefined;
      }
      if (outcome !== "wait") {
        next++;
        continue;
      }
    } catch (e) {
      if (!isTransient(e)) throw e;
      if (unreachableSince === undefined) {
        unreachableSince = Date.now();
        network.faults.note(`no answer from the validator or the chain (${(e as Error).message}): waiting`);
      }
    }
    await sleep(POLL_MS, stop);
  }
  if (network.failed.aborted) throw network.failed.reason;
  return records;
}

/** Starts the network, reports windows until done, and stops every process it started. */
export async function runLocalNetwork(opts: RunOptions): Promise<RunResult> {
  const network = await startLocalNetwork({
    lineup: opts.lineup,
    dir: opts.dir,
    log: opts.log,
    ...(opts.profile ? { profile: opts.profile } : {}),
  });
  const roster: Roster = {
    personas: new Map(network.miners.map((m) => [m.uid, m.persona])),
    formatVersions: new Map(network.miners.flatMap((m) => (m.formatVersion ? [[m.uid, m.formatVersion]] : []))),
    burnUid: getHparams(opts.profile ?? DEFAULT_PROFILE).weights.burn_uid,
  };
  try {
    const duringFailed = new AbortController();
    const during = opts.during?.(network).catch((e: unknown) => duringFailed.abort(e));
    const stopSignal = AbortSignal.any([duringFailed.signal, ...(opts.stopSignal ? [opts.stopSignal] : [])]);
    const records = await followWindows(network, roster, { ...opts, stopSignal });
    // Stopped from outside (Ctrl-C), the side task is not waited for: it may be waiting for a window that will not come.
    if (!opts.stopSignal?.aborted) await during;
    if (duringFailed.signal.aborted) throw duringFailed.signal.reason;
    return { records, roster };
  } finally {
    opts.log("stopping the local network");
    await network.stop();
  }
}
