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
  stop(): Promise<void>;
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
  const child: ChildProcess = spawn(WRANGLER, args, { cwd: ROOT, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
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
      child.kill("SIGKILL");
      throw new Error(`wrangler dev did not answer in 120 s:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    pid: child.pid as number,
    stop: () => stopChild(child),
  };
}
