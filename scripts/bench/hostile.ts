/**
 * `npm run bench:hostile`: what hostile traffic costs honest miners. On the local network
 * (wrangler dev and the local chain), a quiet round (honest uploads and polls alone) and then,
 * in the next put window, the same honest work beside the hostile suite's traffic
 * (scripts/hostile/: every attack class in turn, and a one-client flood). Prints the honest
 * uploads' and polls' p50/p99 under attack ÷ quiet, the hostile requests absorbed per second,
 * and the traffic's answers by class.
 *
 * Options: --requests N (hostile requests of the classes in turn, default 10000),
 * --concurrency N (default 24), --flood N (flood senders, default 8), --honest N (default 8).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { hostileRound, type RoundResult, startHostileNetwork } from "../hostile/hostile-round.ts";
import { trafficTable } from "../hostile/traffic.ts";
import { environment, format, table } from "./measure.ts";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "24" },
    flood: { type: "string", default: "8" },
    honest: { type: "string", default: "8" },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);

/** The q-quantile of `samples` (nearest rank). */
function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

function row(what: string, quiet: readonly number[], attack: readonly number[]): (string | number)[] {
  const [q50, q99, a50, a99] = [
    quantile(quiet, 0.5),
    quantile(quiet, 0.99),
    quantile(attack, 0.5),
    quantile(attack, 0.99),
  ];
  return [
    what,
    `${quiet.length} / ${attack.length}`,
    q50,
    q99,
    a50,
    a99,
    `${format(a50 / q50)}×`,
    `${format(a99 / q99)}×`,
  ];
}

const dir = mkdtempSync(path.join(tmpdir(), "bench-hostile-"));
const net = await startHostileNetwork(dir, Number(args.honest), log);
try {
  const common = { concurrency: Number(args.concurrency), floodConcurrency: Number(args.flood), log };
  log("quiet round: honest uploads and polls alone");
  const quiet: RoundResult = await hostileRound(net, { ...common, requests: 0, windowLeftMs: 14_000, fromWindow: 1 });
  log(`attack round: the same beside ${args.requests} hostile requests and the flood`);
  const attack: RoundResult = await hostileRound(net, {
    ...common,
    requests: Number(args.requests),
    windowLeftMs: 14_000,
    fromWindow: quiet.window + 1,
  });
  const refused = [...quiet.honest, ...attack.honest].filter((o) => o.status !== 202);
  const traffic = attack.traffic;
  if (!traffic) throw new Error("the attack round sent no traffic");
  console.log(`# bench:hostile — ${environment()}\n`);
  console.log(
    `Windows ${quiet.window} (quiet) and ${attack.window} (attack); ${net.honest.length} honest miners; ` +
      `honest uploads refused: ${refused.length}${refused.map((o) => ` ${o.miner.name} ${o.code}`).join(",")}.\n`,
  );
  console.log(
    table(
      [
        "honest request",
        "samples quiet / attack",
        "quiet p50 ms",
        "quiet p99 ms",
        "attack p50 ms",
        "attack p99 ms",
        "p50 ratio",
        "p99 ratio",
      ],
      [
        row(
          "upload (PUT, signed)",
          quiet.honest.map((o) => o.ms),
          attack.honest.map((o) => o.ms),
        ),
        row("poll (window clock, verdict)", quiet.honestReadsMs, attack.honestReadsMs),
      ],
    ),
  );
  console.log(
    `\nHostile requests absorbed: ${traffic.requests} in ${format(traffic.seconds)} s = ${format(traffic.requests / traffic.seconds)}/s; violations: ${traffic.violations}.\n`,
  );
  console.log(trafficTable(traffic));
} finally {
  await net.network.stop();
  rmSync(dir, { recursive: true, force: true });
}
