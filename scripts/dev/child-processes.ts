/** What the local services started as child processes (chopsticks, wrangler dev) share. */
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface StopOptions {
  /** How long SIGTERM has before SIGKILL (default 5 s; 0: SIGKILL at once). */
  readonly graceMs?: number;
  /** Signal the child's whole process group (a child spawned `detached`, with children of its own). */
  readonly group?: boolean;
}

/** Stops a child process: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export function stopChild(child: ChildProcess, opts: StopOptions = {}): Promise<void> {
  const graceMs = opts.graceMs ?? 5000;
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (opts.group && child.pid !== undefined) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  return new Promise<void>((resolve) => {
    const exited = child.exitCode !== null || child.signalCode !== null;
    // The group outlives a leader that already exited: its children still get the signal.
    if (exited) {
      if (opts.group) signal("SIGKILL");
      return resolve();
    }
    const kill = setTimeout(() => signal("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      if (opts.group) signal("SIGKILL"); // whatever of the group is left after its leader
      resolve();
    });
    signal(graceMs > 0 ? "SIGTERM" : "SIGKILL");
  });
}
