/**
 * The fault suite (`npm run faults`, test/node/faults.test.ts): the local network with honest
 * miners only, and, one after the other, the three faults of inject-faults.ts: the runner killed
 * mid-batch, the validator killed and restarted inside a put window, the chain stalled for a
 * minute inside the next one. The run goes on until the window after the stall is reported; then
 * fault-checks.ts examines it, and the recovery time of each fault is printed.
 */
import { getHparams } from "../../schema/hparams.ts";
import type { FaultNote } from "../local-network/fault-log.ts";
import { lineup } from "../local-network/lineup.ts";
import { DEFAULT_PROFILE } from "../local-network/network.ts";
import { runLocalNetwork } from "../local-network/run.ts";
import { type WindowRecord, windowLine } from "../local-network/window-log.ts";
import { examineRun, type FaultFindings } from "./fault-checks.ts";
import {
  type InjectedFault,
  killRunnerMidBatch,
  restartValidatorInPutWindow,
  stallChainInPutWindow,
} from "./inject-faults.ts";

export interface FaultSuiteOptions {
  /** State and logs (wiped at start). */
  readonly dir: string;
  readonly log: (line: string) => void;
  /** Honest miners (default 4). */
  readonly honest?: number;
  /** How long the chain is stalled (default 60 s). */
  readonly stallMs?: number;
  /** Windows reported after the stall's window (default 1). */
  readonly windowsAfter?: number;
  /** Stops the suite early (Ctrl-C): the network is stopped and the run examined as it stands. */
  readonly stopSignal?: AbortSignal;
}

export interface FaultSuiteResult extends FaultFindings {
  readonly faults: readonly InjectedFault[];
  readonly records: readonly WindowRecord[];
  /** The window lines, faults included, as npm start prints them. */
  readonly lines: readonly string[];
}

/** Runs the suite; rejects only if the network itself could not run. */
export async function runFaultSuite(opts: FaultSuiteOptions): Promise<FaultSuiteResult> {
  const hparams = getHparams(DEFAULT_PROFILE);
  const stallMs = opts.stallMs ?? 60_000;
  const windowsAfter = opts.windowsAfter ?? 1;
  const faults: InjectedFault[] = [];
  const lines: string[] = [];
  const done = new AbortController();
  let lastReported = -1;
  let reported: (() => void) | undefined;
  let persistTo = "";
  let logDir = "";
  let notes: readonly FaultNote[] = [];

  const { records, roster } = await runLocalNetwork({
    lineup: lineup(opts.honest ?? 4, false),
    dir: opts.dir,
    log: opts.log,
    stopSignal: AbortSignal.any([done.signal, ...(opts.stopSignal ? [opts.stopSignal] : [])]),
    onWindow: (record, r) => {
      const line = windowLine(record, r);
      lines.push(line);
      opts.log(line);
      lastReported = record.window;
      reported?.();
    },
    during: async (net) => {
      persistTo = net.persistTo;
      logDir = net.logDir;
      notes = net.faults.all;
      const runner = await killRunnerMidBatch(net);
      faults.push(runner);
      const validator = await restartValidatorInPutWindow(net, runner.window + 1);
      faults.push(validator);
      const chain = await stallChainInPutWindow(net, validator.window + 1, stallMs);
      faults.push(chain);
      opts.log(
        `fault suite: all three faults injected; waiting for window ${chain.window + windowsAfter} to be reported`,
      );
      while (lastReported < chain.window + windowsAfter)
        await new Promise<void>((r) => {
          reported = r;
        });
      done.abort();
    },
  });
  const honestUids = [...roster.personas].filter(([, p]) => p === "honest").map(([uid]) => uid);
  // The first window is the one the miners joined mid-way; the checks cover every window after it.
  const findings = await examineRun({
    persistTo,
    logDir,
    hparams,
    records: records.slice(1),
    honestUids,
    faults,
    notes,
  });
  return { ...findings, faults, records, lines };
}

/** The suite's report: recovery per fault, then every check. */
export function faultReport(result: FaultSuiteResult): string {
  const s = (ms: number | null) => (ms === null ? "—" : `${(ms / 1000).toFixed(1)} s`);
  const beyond = (r: FaultFindings["recoveries"][number]) =>
    r.recoveredMs === null
      ? "—"
      : `${s(r.recoveredMs - r.faultMs)} (${((r.recoveredMs - r.faultMs) / r.unit.ms).toFixed(1)} ${r.unit.name})`;
  const recoveries = [
    "| fault | lasted | recovered after | beyond the fault | what recovered |",
    "| --- | --- | --- | --- | --- |",
    ...result.recoveries.map(
      (r) => `| ${r.fault} | ${s(r.faultMs)} | ${s(r.recoveredMs)} | ${beyond(r)} | ${r.what} |`,
    ),
    "",
    "| window | put close → outer step | allowed (a window, plus its faults) |",
    "| --- | --- | --- |",
    ...result.windows.map((w) => `| ${w.window} | ${s(w.doneMs)} | ${s(w.allowedMs)} |`),
  ];
  const checks = result.checks.map((c) => `${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  return [...recoveries, "", ...checks].join("\n");
}
