/**
 * `wrangler dev` as a child process on loopback, with local R2, D1 and Queues persisted in a
 * folder: for benchmarks, the local network and browser tests.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { freePort, stopChild } from "./child-processes.ts";
import { describeDevServerLine } from "./dev-server-log.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WRANGLER = path.join(ROOT, "node_modules/.bin/wrangler");
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };

export interface WranglerDev {
  readonly url: string;
  readonly pid: number;
  /** Stops wrangler and its workerd: SIGTERM to the process group, SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** Kills wrangler and its workerd at once (SIGKILL to the process group), as a crashed host would. */
  kill(): Promise<void>;
}

/** Where a wrangler storage command acts: the local state in a folder, or the account (an environment of wrangler.toml). */
export type WranglerTarget = string | { readonly remote: true; readonly env?: string };

function targetArgs(target: WranglerTarget): string[] {
  if (typeof target === "string") return ["--local", "--persist-to", target];
  return ["--remote", ...(target.env ? ["--env", target.env] : [])];
}

/** Runs a wrangler subcommand against a target (a local persist folder, or remote); resolves with its stdout. */
export async function wrangler(args: readonly string[], target: WranglerTarget): Promise<string> {
  const { stdout } = await promisify(execFile)(WRANGLER, [...args, ...targetArgs(target)], {
    cwd: ROOT,
    env: ENV,
    maxBuffer: 16 << 20,
  });
  return stdout;
}

/**
 * The rows of one SQL statement run on a local D1 (`wrangler d1 execute --json`). A database that
 * the running validator holds busy for a moment (SQLITE_BUSY) is tried again, up to 5 times.
 */
export async function queryD1<T>(persistTo: string, command: string): Promise<T[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const out = JSON.parse(await wrangler(["d1", "execute", "DB", "--json", "--command", command], persistTo)) as {
        results: T[];
      }[];
      return out.at(-1)?.results ?? [];
    } catch (e) {
      if (attempt >= 5 || !/SQLITE_BUSY/.test(String(e))) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Applies schema/migrations to the D1 of a target. */
export async function migrate(target: WranglerTarget): Promise<void> {
  await wrangler(["d1", "migrations", "apply", "DB"], target);
}

/** Starts `wrangler dev` with the given vars; resolves once it answers. */
export async function startWranglerDev(opts: {
  persistTo: string;
  vars?: Readonly<Record<string, string>>;
  port?: number;
  log?: (line: string) => void;
}): Promise<WranglerDev> {
  const port = opts.port ?? (await freePort());
  const vars = Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    opts.persistTo,
    "--show-interactive-dev-session=false",
    ...vars,
  ];
  // A process group of its own: wrangler runs workerd as a child, and both must go together
  // (a SIGKILL to wrangler alone would leave workerd serving the port).
  const child: ChildProcess = spawn(WRANGLER, args, {
    cwd: ROOT,
    env: ENV,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const line of chunk.toString().split("\n")) if (line.trim()) opts.log?.(describeDevServerLine(line));
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output.slice(-3000)}`);
    try {
      if ((await fetch(`${url}/v1/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild(child, { graceMs: 0, group: true });
      throw new Error(`wrangler dev did not answer in 120 s:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    pid: child.pid as number,
    stop: () => stopChild(child, { group: true }),
    kill: () => stopChild(child, { graceMs: 0, group: true }),
  };
}
