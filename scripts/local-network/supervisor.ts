/**
 * Keeps the local network's processes running the way a process supervisor (systemd, Kubernetes)
 * keeps a production runner running: a child that exits while the network is up is started
 * again, after a pause that grows while it keeps exiting soon after each start.
 */
import type { ChildProcess } from "node:child_process";
import { stopChild } from "../dev/child-processes.ts";

/** A child process under supervision. */
export interface Supervised {
  readonly name: string;
  /** The process running now. */
  readonly child: ChildProcess;
  /** Stops it for good (no restart). */
  stop(): Promise<void>;
}

/** A restart pause of 1 s, doubling (up to 30 s) for a process that ran less than a minute. */
const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 30_000;
const STABLE_MS = 60_000;

/**
 * Starts `start()` and starts it again whenever it exits before stop(); `onRestart` is told why
 * it exited and how long the pause before the new start is.
 */
export function supervise(
  name: string,
  start: () => ChildProcess,
  onRestart: (name: string, exit: string, pauseMs: number) => void,
): Supervised {
  let stopping = false;
  let restarts = 0;
  let pauseMs = FIRST_PAUSE_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let child: ChildProcess;
  const run = () => {
    const startedAt = Date.now();
    child = start();
    child.once("exit", (code, signal) => {
      if (stopping) return;
      const stable = restarts === 0 || Date.now() - startedAt >= STABLE_MS;
      pauseMs = stable ? FIRST_PAUSE_MS : Math.min(MAX_PAUSE_MS, pauseMs * 2);
      onRestart(name, signal ?? `code ${code}`, pauseMs);
      timer = setTimeout(() => {
        if (stopping) return;
        restarts++;
        run();
      }, pauseMs);
    });
  };
  run();
  return {
    name,
    get child() {
      return child;
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await stopChild(child);
    },
  };
}
