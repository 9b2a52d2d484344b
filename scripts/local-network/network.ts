/**
 * The local network `npm start` runs (docs/LOCAL_NETWORK.md): the subtensor runtime under
 * chopsticks with a subnet, a validator hotkey and the miners registered, block production paced
 * to the wall clock; the validator Worker in `wrangler dev` (local R2, D1, Queues), migrated, with
 * the model and data published and its cron ticked every few seconds; one gpu-runner; the miners.
 * Every process it starts is stopped by stop().
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { ApiPromise } from "@polkadot/api";
import { getHparams, PROFILES } from "../../schema/hparams.ts";
import { ensureArtifacts } from "../artifacts/ensure-artifacts.ts";
import { ROOT } from "../artifacts/files.ts";
import { stopChild } from "../dev/child-processes.ts";
import { migrate, startWranglerDev, type WranglerDev } from "../dev/wrangler-dev.ts";
import { accountUris, type LocalChain, startLocalChain } from "../local-chain/chopsticks.ts";
import { type Pacer, startPacer } from "../local-chain/pacer.ts";
import { connect, setUpSubnet } from "../local-chain/subnet.ts";
import { publishArtifacts } from "../publish-artifacts.ts";
import { registerRunner } from "../runner-token.ts";
import type { MinerSpec, Persona } from "./lineup.ts";

/** The hparams profile the local network runs unless told otherwise (its pacing is the local chain's). */
export const DEFAULT_PROFILE = "local";
/** How often the cron handler is triggered (wrangler dev runs scheduled handlers only on request). */
const TICK_MS = 2000;

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

/** Starts a Node script of this repository with its output in `logDir/name.log`. */
function startProcess(logDir: string, name: string, script: string, args: readonly string[]): ChildProcess {
  const out = createWriteStream(path.join(logDir, `${name}.log`));
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
  const processes: ChildProcess[] = [];
  const stopAll = async () => {
    await Promise.all(processes.splice(0).map((child) => stopChild(child)));
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
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
    const api = await connect(chain.wsUrl);
    stops.push(() => api.disconnect());
    log(`registering a subnet, the validator and ${names.length} miners`);
    const subnet = await setUpSubnet(api, { miners: names });
    const uidOf = async (hotkey: string) =>
      Number((await api.query.subtensorModule.uids(subnet.netuid, hotkey)).toString());
    const validatorUid = await uidOf(subnet.validator.hotkey.address);
    const pacer: Pacer = await startPacer(api);
    stops.push(() => pacer.stop());

    log("starting the validator (wrangler dev: workerd with local R2, D1 and Queues)");
    const persist = path.join(opts.dir, "state");
    await migrate(persist);
    await publishArtifacts(artifacts, persist);
    const workerLog = createWriteStream(path.join(logDir, "worker.log"));
    const dev: WranglerDev = await startWranglerDev({
      persistTo: persist,
      vars: {
        HPARAMS_PROFILE: profile,
        CHAIN_URL: chain.httpUrl,
        NETUID: String(subnet.netuid),
        VALIDATOR_HOTKEY_SECRET: "//Charlie//hot",
      },
      log: (line) => workerLog.write(`${line}\n`),
    });
    stops.push(() => dev.stop());

    let ticking = true;
    const ticks = (async () => {
      while (ticking) {
        const started = Date.now();
        await fetch(`${dev.url}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`).catch(() => {});
        await new Promise((r) => setTimeout(r, Math.max(0, TICK_MS - (Date.now() - started))));
      }
    })();
    stops.push(async () => {
      ticking = false;
      await ticks;
    });

    const startProcesses = opts.processes ?? true;
    if (startProcesses) {
      const token = await registerRunner("local-runner", persist);
      processes.push(startProcess(logDir, "runner", "gpu-runner/main.ts", ["--url", dev.url, `--token=${token}`]));
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
      processes.push(
        startProcess(logDir, m.name, "scripts/miner.ts", [
          ...["--url", dev.url, "--hotkey", `//${m.name}//hot`, "--uid", String(m.uid)],
          ...["--persona", m.persona satisfies Persona, "--work-dir", m.workDir],
          ...(copyFrom ? ["--copy-from", copyFrom] : []),
          ...(m.formatVersion === undefined ? [] : ["--format-version", String(m.formatVersion)]),
        ]),
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
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
