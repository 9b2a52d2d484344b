/**
 * One round of the hostile suite on the local network: wait for an open put window, let the
 * first honest miner upload (the attacker overhears it), then send the hostile traffic while
 * the other honest miners upload and an honest client polls the window clock and its verdicts,
 * from its own address as a miner would. Without traffic it is the quiet baseline.
 */
import path from "node:path";
import { type HotkeySigner, hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { type LocalNetwork, startLocalNetwork } from "../local-network/network.ts";
import type { Arena, OverheardUpload } from "./attack-classes.ts";
import { type HonestMiner, type HonestOutcome, HonestUploader } from "./honest-uploads.ts";
import { sendHostileTraffic, type TrafficReport } from "./traffic.ts";

export interface HostileNetwork {
  readonly network: LocalNetwork;
  readonly uploader: HonestUploader;
  readonly honest: readonly HonestMiner[];
  readonly attacker: HonestMiner;
  readonly strangers: readonly HotkeySigner[];
  /** The validator's state folder (`wrangler d1 execute --persist-to`). */
  readonly state: string;
}

/** The local network with `honestCount` honest miners and an attacker registered, and no miner processes. */
export async function startHostileNetwork(
  dir: string,
  honestCount: number,
  log: (line: string) => void,
): Promise<HostileNetwork> {
  const names = Array.from({ length: honestCount }, (_, i) => `Honest${i + 1}`);
  const network = await startLocalNetwork({
    lineup: [...names, "Attacker"].map((name) => ({ name, persona: "honest" as const })),
    dir,
    log,
    processes: false,
  });
  const miner = (name: string): HonestMiner => {
    const m = network.miners.find((x) => x.name === name);
    if (!m) throw new Error(`${name} was not registered`);
    return { name, uid: m.uid, signer: hotkeySignerFromSecret(`//${name}//hot`) };
  };
  return {
    network,
    uploader: await HonestUploader.create(network.url, network.netuid),
    honest: names.map(miner),
    attacker: miner("Attacker"),
    strangers: Array.from({ length: 32 }, (_, i) => hotkeySignerFromSecret(`//Stranger${i}//hot`)),
    state: path.join(dir, "state"),
  };
}

export interface RoundOptions {
  /** Hostile requests to send; 0 for the quiet baseline. */
  readonly requests: number;
  readonly concurrency: number;
  /** Concurrent senders of the one-client read flood. */
  readonly floodConcurrency: number;
  /** The first window whose put window may hold the round (the closed-window class needs an earlier one). */
  readonly fromWindow: number;
  readonly log: (line: string) => void;
  /** The least time the put window must still be open when the round starts. */
  readonly windowLeftMs: number;
}

export interface RoundResult {
  readonly window: number;
  readonly honest: readonly HonestOutcome[];
  /** Round trips of the honest client's polls (window clock, verdicts), in ms. */
  readonly honestReadsMs: readonly number[];
  readonly traffic: TrafficReport | null;
}

/** Runs one round in the next put window with `windowLeftMs` to go. */
export async function hostileRound(net: HostileNetwork, opts: RoundOptions): Promise<RoundResult> {
  const { uploader } = net;
  const open = await uploader.awaitOpenWindow(opts.windowLeftMs, opts.fromWindow);
  const base = await uploader.checkpoint(open.checkpointWindow);
  const [first, ...rest] = net.honest;
  if (!first) throw new Error("a round needs an honest miner");
  const honest: HonestOutcome[] = [await uploader.upload(first, open.window, base, open.window * 1000 + first.uid)];
  const overheard: OverheardUpload[] = honest.map((o) => o.request);
  const arena: Arena = {
    url: net.network.url,
    netuid: net.network.netuid,
    window: open.window,
    putClosesAtMs: open.closesAtMs,
    victims: net.honest.map((m) => ({ uid: m.uid, hotkey: m.signer.address })),
    attacker: { uid: net.attacker.uid, hotkey: net.attacker.signer.address, signer: net.attacker.signer },
    strangers: net.strangers,
    body: new TextEncoder().encode("not a gradient file"),
    overheard,
    maxGradientBytes: (await uploader.api.hparams()).limits.max_gradient_bytes,
  };

  let trafficDone = false;
  const traffic =
    opts.requests > 0
      ? sendHostileTraffic({
          requests: opts.requests,
          concurrency: opts.concurrency,
          floodConcurrency: opts.floodConcurrency,
          arena: () => arena,
          progress: (done, total) => opts.log(`hostile traffic: ${done} of ${total} requests`),
          progressEvery: Math.max(1000, Math.round(opts.requests / 10)),
        }).finally(() => {
          trafficDone = true;
        })
      : null;

  // The other honest miners upload one a second, with or without traffic, so rounds compare.
  const spacingMs = 1000;
  const uploads = (async () => {
    for (const m of rest) {
      await new Promise((r) => setTimeout(r, spacingMs));
      const outcome = await uploader.upload(m, open.window, base, open.window * 1000 + m.uid);
      honest.push(outcome);
      overheard.push(outcome.request);
    }
  })();
  // An honest client polls as miners do, until the uploads (and the traffic) are done.
  const honestReadsMs: number[] = [];
  let uploadsDone = false;
  const reads = (async () => {
    let k = 0;
    while (!uploadsDone || (traffic && !trafficDone)) {
      const route = k++ % 2 ? "/v1/windows/current" : `/v1/submissions/${open.window}/${first.uid}`;
      const t0 = performance.now();
      const res = await fetch(`${net.network.url}${route}`);
      await res.arrayBuffer();
      honestReadsMs.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await uploads;
  uploadsDone = true;
  const report = traffic ? await traffic : null;
  await reads;
  return { window: open.window, honest, honestReadsMs, traffic: report };
}
