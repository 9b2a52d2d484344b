/**
 * A simulation's results as markdown (`npm run simulate -- --table FILE`): per window over all
 * seeds, the paid share, the own-data trainers' share of it, each honest miner's weight (min,
 * median, max), lazy and small-batch's mean weight, every cheat's largest weight and the held-out
 * bits per byte; then each persona's mean weight after the warm-up.
 */
import { OWN_DATA_TRAINERS } from "../miner/personas.ts";
import { DETECTABLE_FROM, WARM_UP_WINDOWS } from "./incentive-claims.ts";
import type { SimulationResult, UidRecord, WindowRecord } from "./simulation-result.ts";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: readonly number[]) => sum(xs) / Math.max(1, xs.length);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const weightsOf = (ws: readonly WindowRecord[], pick: (u: UidRecord) => boolean) =>
  ws.flatMap((w) => w.uids.filter(pick).map((u) => u.weight));

/** The markdown tables of a simulation. */
export function simulationTable(sim: SimulationResult): string {
  const cheats = Object.keys(DETECTABLE_FROM).filter((p) => sim.lineup.includes(p));
  const windows = Math.max(...sim.seeds.map((s) => s.windows.length));
  const head = [
    "window",
    "paid (min)",
    "own-data share of paid (min)",
    "honest min / median / max",
    "lazy",
    "small-batch",
    ...cheats,
    "held-out bpb after",
  ];
  const rows: string[][] = [];
  for (let i = 0; i < windows; i++) {
    const ws = sim.seeds.flatMap((s) => (s.windows[i] ? [s.windows[i] as WindowRecord] : []));
    const paid = ws.map((w) => sum(weightsOf([w], (u) => u.persona !== "burn")));
    const trainers = ws.map((w, j) =>
      (paid[j] as number) > 0
        ? sum(weightsOf([w], (u) => (OWN_DATA_TRAINERS as readonly string[]).includes(u.persona))) / (paid[j] as number)
        : Number.NaN,
    );
    const honest = weightsOf(ws, (u) => u.persona === "honest");
    rows.push([
      String(i + 1),
      pct(Math.min(...paid)),
      trainers.some(Number.isNaN) ? "— (nothing paid)" : pct(Math.min(...trainers)),
      `${pct(Math.min(...honest))} / ${pct(median(honest))} / ${pct(Math.max(...honest))}`,
      pct(mean(weightsOf(ws, (u) => u.persona === "lazy"))),
      pct(mean(weightsOf(ws, (u) => u.persona === "small-batch"))),
      ...cheats.map((c) => pct(Math.max(0, ...weightsOf(ws, (u) => u.persona === c)))),
      mean(ws.map((w) => w.heldout_bpb_after)).toFixed(3),
    ]);
  }
  const table = [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");

  const after = sim.seeds.flatMap((s) => s.windows.filter((w) => w.window > WARM_UP_WINDOWS));
  const personas = [...new Set(sim.lineup)];
  const perMiner = personas.map((p) => {
    const ws = weightsOf(after, (u) => u.persona === p);
    const miners = sim.lineup.filter((x) => x === p).length;
    return `| ${p} | ${miners} | ${pct(mean(ws))} | ${pct(Math.min(...ws))} | ${pct(Math.max(...ws))} |`;
  });
  const summary = [
    "| persona | miners | mean weight per miner after the warm-up | min | max |",
    "| --- | --- | --- | --- | --- |",
    ...perMiner,
  ].join("\n");
  return `${table}\n\n${summary}\n`;
}
