/**
 * A run of the local network: start it, report each window as the validator finishes it
 * (scored, outer step applied), stop after `windows` windows or when asked, stop everything.
 */
import type { ScoreLineJson, WeightSetJson, WindowReportJson } from "../../schema/api/public.ts";
import { getHparams } from "../../schema/hparams.ts";
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
}

export interface RunResult {
  readonly records: readonly WindowRecord[];
  readonly roster: Roster;
}

const POLL_MS = 2000;

async function getJson<T>(url: string): Promise<T | null> {
  const res = await fetch(url);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Waits `ms`, or less if the signal fires. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Follows the validator window by window from the first one the miners can take part in. */
async function followWindows(network: LocalNetwork, roster: Roster, opts: RunOptions): Promise<WindowRecord[]> {
  const records: WindowRecord[] = [];
  const current = async () => (await getJson<{ window: number }>(`${network.url}/v1/windows/current`))?.window ?? 0;
  // From the window the miners start in (they join it if there is time to train before its put window).
  let next = await current();
  while (!opts.stopSignal?.aborted && (opts.windows === undefined || records.length < opts.windows)) {
    const report = await getJson<WindowReportJson>(`${network.url}/v1/windows/${next}`);
    if (report?.state === "scored" && report.outer_step?.completed_at_ms) {
      const sets = await getJson<{ weight_sets: WeightSetJson[] }>(`${network.url}/v1/weights/sets?limit=1`);
      const scores = await getJson<{ scores: ScoreLineJson[] }>(`${network.url}/v1/scores/${next}`);
      const record: WindowRecord = {
        window: next,
        report,
        scores: scores?.scores ?? [],
        chainWeights: await chainWeightShares(network.api, network.netuid, network.validatorUid),
        weightSet: sets?.weight_sets[0] ?? null,
      };
      records.push(record);
      opts.onWindow?.(record, roster);
      next++;
      continue;
    }
    if (!report && next < (await current()) - 2) {
      next++; // the validator never saw it (started late): nothing to report
      continue;
    }
    await pause(POLL_MS, opts.stopSignal);
  }
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
    return { records: await followWindows(network, roster, opts), roster };
  } finally {
    opts.log("stopping the local network");
    await network.stop();
  }
}
