/**
 * A simulation's seeds run side by side, one worker thread per seed and at most `jobs` at a time
 * (scripts/simulate.ts and test/node/incentives.test.ts): progress lines as they come, the
 * results in seed order with the wall time.
 */
import { Worker } from "node:worker_threads";
import type { MinerSpec } from "../local-network/lineup.ts";
import type { SeedOptions } from "./run-seed.ts";
import type { SeedResult, SimulationResult } from "./simulation-result.ts";

export interface SimulationOptions {
  readonly seeds: number;
  readonly windows: number;
  readonly profile: string;
  readonly lineup: readonly MinerSpec[];
  /** The profile's artifacts folder (scripts/artifacts/ensure-artifacts.ts). */
  readonly artifacts: string;
  /** Seeds run at once (one core each). */
  readonly jobs: number;
  /** Keep every evaluated uid's per-sample losses. */
  readonly sampleLosses?: boolean;
}

/** Runs seeds 1…`seeds`; `progress` gets a line per window of each. */
export async function runSimulation(o: SimulationOptions, progress: (line: string) => void): Promise<SimulationResult> {
  const started = performance.now();
  const results: SeedResult[] = [];
  const queue = Array.from({ length: o.seeds }, (_, i) => i + 1);
  const runOne = async (): Promise<void> => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
      const workerData: SeedOptions = {
        seed,
        windows: o.windows,
        profile: o.profile,
        lineup: o.lineup,
        artifacts: o.artifacts,
        sampleLosses: o.sampleLosses ?? false,
      };
      const result = await new Promise<SeedResult>((resolve, reject) => {
        const worker = new Worker(new URL("./seed-worker.ts", import.meta.url), { workerData });
        worker.on("message", (m: { progress?: string; result?: SeedResult }) => {
          if (m.progress) progress(m.progress);
          if (m.result) resolve(m.result);
        });
        worker.on("error", reject);
        worker.on("exit", (code) => code !== 0 && reject(new Error(`seed ${seed}: worker exited with ${code}`)));
      });
      results.push(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, o.seeds) }, runOne));
  return {
    profile: o.profile,
    lineup: o.lineup.map((s) => s.persona),
    wall_seconds: (performance.now() - started) / 1000,
    seeds: results.sort((a, b) => a.seed - b.seed),
  };
}
