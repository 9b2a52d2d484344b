/**
 * A worker thread that runs one seed of a simulation (scripts/simulate.ts runs seeds side by
 * side, one per core): progress lines and the result go back as messages.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runSeed, type SeedOptions } from "./run-seed.ts";

const port = parentPort;
if (!port) throw new Error("seed-worker.ts runs as a worker thread");
const result = await runSeed(workerData as SeedOptions, (line) => port.postMessage({ progress: line }));
port.postMessage({ result });
