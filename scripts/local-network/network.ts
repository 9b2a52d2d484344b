/**
 * The local network `npm start` runs (docs/LOCAL_NETWORK.md): the subtensor runtime under
 * chopsticks with a subnet, a validator hotkey and the miners registered, block production paced
 * to the wall clock; the validator Worker in `wrangler dev` (local R2, D1, Queues), migrated, with
 * the model and data published and its cron ticked every few seconds; one gpu-runner; the miners.
 * Every process it starts is stopped by stop().
 *
 * It rides out what production meets (docs/DEPLOY.md, "Faults"): the runner and the miners are
 * supervised (started again if they exit), the pacer keeps building once a stalled chain answers,
 * and the validator can be killed and started again on the same port and state; each of these is
 * a note in `faults`. A chain process that exits ends the network: `failed` says why.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { ApiPromise } from "@polkadot/api";
import { getHparams, PROFILES } from "../../schema/hparams.ts";
import { ensureArtifacts } from "../artifacts/ensure-artifacts.ts";
import { ROOT } from "../artifacts/files.ts";
import { migrate, startWranglerDev, type WranglerDev } from "../dev/wrangler-dev.ts";
import { accountUris, type LocalChain, startLocalChain } from "../local-chain/chopsticks.ts";
import { type Pacer, startPacer } from "../local-chain/pacer.ts";
import { connect, setUpSubnet } from "../local-chain/subnet.ts";
import { publishArtifacts } from "../publish-artifacts.ts";
import { registerRunner } from "../runner-token.ts";
import { FaultLog, seconds } from "./fault-log.ts";
import type { MinerSpec, Persona } from "./lineup.ts";
import { type Supervised, supervise } from "./supervisor.ts";

/** The hparams profile the local network runs unless told otherwise (its pacing is the local chain's). */
export const DEFAULT_PROFILE = "local";
/** How often the cron handler is triggered (wrangler dev runs scheduled handlers only on request). */
const TICK_MS = 2000;
/** A tick that has not answered in this long is abandoned (the next one is sent). */
const TICK_TIMEOUT_MS = 60_000;

/** Why `profile` cannot run on the local network (unknown, manifest-only, or paced for another chain), or null. */
export function localProfileError(profile: string): string | null {
  if (!Object.hasOwn(PROFILES, profile))
    return `unknown profile ${profile} (known: ${Object.keys(PROFILES).join(", ")})`;
  const hparams = getHparams(profile);
  const local = getHparams(DEFAULT_PROFILE).window;
  if (hparams.model.family === "llama" && hparams.model.manifest_only)
    return `profile ${profile} is manifest-only: sized by npm run model-sizes, not run`;
  if (
    hparams.window.block_time_ms !== local.block_time_ms ||
    hparams.window.blocks_per_window !== local.blocks_per_window
  )
    return `profile ${profile} expects ${hparams.window.blocks_per_window} blocks of ${hparams.window.block_time_ms} ms a window; the local chain builds ${local.blocks_per_window} of ${local.block_time_ms} ms`;
  return null;
}

export interface NetworkMiner extends MinerSpec {
  readonly uid: number;
  readonly hotkey: string;
  readonly workDir: string;
}

export interface LocalNetwork {
  readonly url: string;
  readonly api: ApiPromise;
  readonly netuid: number;
  readonly validatorUid: number;
  readonly miners: readonly NetworkMiner[];
  /** Where every process's output goes, one file each. */
  readonly logDir: string;
  /** The validator's local state (D1, R2), for `wrangler d1 execute --persist-to`. */
  readonly persistTo: string;
  /** The faults met and ridden out so far. */
  readonly faults: FaultLog;
  /** Aborted, with the reason, if the network cannot go on (its chain process exited). */
  readonly failed: AbortSignal;
  /** The chain process (chopsticks), to stall it with SIGSTOP. */
  readonly chainPid: number;
  /** The runner under supervision (absent when the network was started without processes). */
  readonly runner: Supervised | undefined;
  /**
   * Kills the validator (wrangler dev and workerd, SIGKILL), runs `whileDown` (its state is at
   * rest then), and starts it again on the same port and state; resolves once it answers.
   */
  restartValidator(whileDown?: () => Promise<void>): Promise<{ readonly killedAtMs: number; readonly upAtMs: number }>;
  stop(): Promise<void>;
}

export interface NetworkOptions {
  readonly lineup: readonly MinerSpec[];
  /** State, logs and miners' work folders; wiped at start. */
  readonly dir: string;
  readonly log: (line: string) => void;
  /** The hparams profile (default `local`; `llama-tiny` runs the llama family on the same clock). */
  readonly profile?: string;
  /** Start the runner and one miner process per lineup entry (default); false only registers the lineup's hotkeys. */
  readonly processes?: boolean;
}

/** Starts a Node script of this repository with its output appended to `logDir/name.log`. */
function startProcess(logDir: string, name: string, script: string, args: readonly string[]): ChildProcess {
  const out = createWriteStream(path.join(logDir, `${name}.log`), { flags: "a" });
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return child;
}

/** Starts the whole network; on any failure, what was started is stopped again. */
export async function startLocalNetwork(opts: NetworkOptions): Promise<LocalNetwork> {
  const { log } = opts;
  // Services stop in reverse order of starting; the runner and miners, started last, all at once.
  const stops: (() => Promise<void>)[] = [];
  const processes: Supervised[] = [];
  const faults = new FaultLog(log);
  const failure = new AbortController();
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all(processes.splice(0).map((p) => p.stop()));
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  const restarted = (name: string, exit: string, pauseMs: number) =>
    faults.note(`${name} exited (${exit}): started again in ${seconds(pauseMs)}`);
  try {
    rmSync(opts.dir, { recursive: true, force: true });
    const logDir = path.join(opts.dir, "logs");
    mkdirSync(logDir, { recursive: true });
    const profile = opts.profile ?? DEFAULT_PROFILE;
    const artifacts = await ensureArtifacts(profile, log);

    log("starting the subtensor runtime (chopsticks)");
    const names = opts.lineup.map((m) => m.name);
    const chainLog = createWriteStream(path.join(logDir, "chopsticks.log"));
    const chain: LocalChain = await startLocalChain({
      fundedUris: accountUris(names),
      log: (line) => chainLog.write(`${line}\n`),
    });
    stops.push(() => chain.stop());
    void chain.exited.then((exit) => {
      if (stopping) return;
      faults.note(`the local chain exited (${exit}): the network cannot go on`);
      failure.abort(
        new Error(`the local chain (chopsticks) exited (${exit}); its output is in ${logDir}/chopsticks.log`),
      );
    });
    const api = await connect(chain.wsUrl);
    stops.push(() => api.disconnect());
    log(`registering a subnet, the validator and ${names.length} miners`);
    const subnet = await setUpSubnet(api, { miners: names });
    const uidOf = async (hotkey: string) =>
      Number((await api.query.subtensorModule.uids(subnet.netuid, hotkey)).toString());
    const validatorUid = await uidOf(subnet.validator.hotkey.address);
    const pacer: Pacer = await startPacer(api, {
      onStall: (stall) =>
        faults.note(
          `the local chain has built no block for ${seconds(stall.stalledMs)}` +
            (stall.error ? ` (${stall.error.message})` : " (it does not answer)"),
        ),
      onRecover: (stall) => faults.note(`the local chain builds blocks again after ${seconds(stall.stalledMs)}`),
    });
    stops.push(() => pacer.stop());

    log("starting the validator (wrangler dev: workerd with local R2, D1 and Queues)");
    const persist = path.join(opts.dir, "state");
    await migrate(persist);
    await publishArtifacts(artifacts, persist);
    const workerLog = createWriteStream(path.join(logDir, "worker.log"));
    const startValidator = (port?: number) =>
      startWranglerDev({
        persistTo: persist,
        vars: {
          HPARAMS_PROFILE: profile,
          CHAIN_URL: chain.httpUrl,
          NETUID: String(subnet.netuid),
          VALIDATOR_HOTKEY_SECRET: "//Charlie//hot",
        },
        log: (line) => workerLog.write(`${line}\n`),
        ...(port === undefined ? {} : { port }),
      });
    let dev: WranglerDev = await startValidator();
    const port = Number(new URL(dev.url).port);
    stops.push(() => dev.stop());
    const restartValidator = async (whileDown?: () => Promise<void>) => {
      const killedAtMs = Date.now();
      await dev.kill();
      faults.note("the validator was killed (wrangler dev and workerd, SIGKILL)");
      await whileDown?.();
      workerLog.write("--- the validator starts again on the same port and state ---\n");
      dev = await startValidator(port);
      const upAtMs = Date.now();
      faults.note(`the validator answers again, ${seconds(upAtMs - killedAtMs)} after it was killed`);
      return { killedAtMs, upAtMs };
    };

    let ticking = true;
    const ticks = (async () => {
      while (ticking) {
        const started = Date.now();
        await fetch(`${dev.url}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`, {
          signal: AbortSignal.timeout(TICK_TIMEOUT_MS),
        }).catch(() => {});
        await new Promise((r) => setTimeout(r, Math.max(0, TICK_MS - (Date.now() - started))));
      }
    })();
    stops.push(async () => {
      ticking = false;
      await ticks;
    });

    const startProcesses = opts.processes ?? true;
    let runner: Supervised | undefined;
    if (startProcesses) {
      const token = await registerRunner("local-runner", persist);
      // Polling every second, an idle runner takes a batch put back by an expired lease at once.
      runner = supervise(
        "the runner",
        () =>
          startProcess(logDir, "runner", "gpu-runner/main.ts", [
            "--url",
            dev.url,
            `--token=${token}`,
            "--poll-seconds",
            "1",
          ]),
        restarted,
      );
      processes.push(runner);
    }

    const miners: NetworkMiner[] = [];
    for (const [i, spec] of opts.lineup.entries()) {
      const account = subnet.miners[i] as (typeof subnet.miners)[number];
      miners.push({
        ...spec,
        uid: await uidOf(account.hotkey.address),
        hotkey: account.hotkey.address,
        workDir: path.join(opts.dir, "miners", spec.name),
      });
    }
    for (const m of startProcesses ? miners : []) {
      const copyFrom = m.copies ? miners.find((v) => v.name === m.copies)?.workDir : undefined;
      const args = [
        ...["--url", dev.url, "--hotkey", `//${m.name}//hot`, "--uid", String(m.uid)],
        ...["--persona", m.persona satisfies Persona, "--work-dir", m.workDir],
        ...(copyFrom ? ["--copy-from", copyFrom] : []),
        ...(m.formatVersion === undefined ? [] : ["--format-version", String(m.formatVersion)]),
      ];
      processes.push(
        supervise(`miner ${m.name}`, () => startProcess(logDir, m.name, "scripts/miner.ts", args), restarted),
      );
    }
    log(
      `validator ${dev.url} (uid ${validatorUid}, netuid ${subnet.netuid}, profile ${profile}); chain ${chain.wsUrl}; ` +
        `${startProcesses ? `runner and ${miners.length} miners started` : `${miners.length} miners registered`}; logs in ${path.resolve(logDir)}`,
    );
    log(
      `a miner of your own: npm run register-miner -- --chain ${chain.wsUrl} --netuid ${subnet.netuid} --name NAME --url ${dev.url}`,
    );
    return {
      url: dev.url,
      api,
      netuid: subnet.netuid,
      validatorUid,
      miners,
      logDir,
      persistTo: persist,
      faults,
      failed: failure.signal,
      chainPid: chain.pid,
      runner,
      restartValidator,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
