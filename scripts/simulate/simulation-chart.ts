/**
 * A simulation drawn (`npm run simulate -- --chart FILE.svg`): per window, a stacked bar of the
 * weight shares averaged over seeds (burn, honest miners, lazy, small-batch, every cheat
 * together), and the held-out bits per byte after the window's outer step as a line on its own
 * axis. Plain SVG, no dependencies: it opens in a browser and renders on GitHub.
 */
import { OWN_DATA_TRAINERS } from "../miner/personas.ts";
import type { SimulationResult } from "./simulation-result.ts";

const WIDTH = 900;
const HEIGHT = 420;
const M = { top: 48, right: 64, bottom: 44, left: 56 } as const;

/** The stacked groups, bottom to top, with their colours. */
const GROUPS: readonly { name: string; colour: string; personas: (p: string) => boolean }[] = [
  { name: "honest", colour: "#2f7d4f", personas: (p) => p === "honest" },
  { name: "lazy", colour: "#7fbf7f", personas: (p) => p === "lazy" },
  { name: "small-batch", colour: "#b8dfa0", personas: (p) => p === "small-batch" },
  {
    name: "every cheat",
    colour: "#c0392b",
    personas: (p) => p !== "burn" && !(OWN_DATA_TRAINERS as readonly string[]).includes(p),
  },
  { name: "burn", colour: "#c8c8c8", personas: (p) => p === "burn" },
];

const r1 = (v: number) => String(Math.round(v * 10) / 10);

/** The SVG of a simulation's weight shares and held-out loss per window. */
export function simulationChart(sim: SimulationResult): string {
  const windows = Math.max(...sim.seeds.map((s) => s.windows.length));
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const slot = plotW / windows;
  const y = (share: number) => M.top + plotH * (1 - share);
  const parts: string[] = [];
  const bpb: number[] = [];
  for (let i = 0; i < windows; i++) {
    const ws = sim.seeds.flatMap((s) => (s.windows[i] ? [s.windows[i]] : []));
    let base = 0;
    for (const g of GROUPS) {
      const share =
        ws.reduce(
          (a, w) => a + (w?.uids ?? []).filter((u) => g.personas(u.persona)).reduce((b, u) => b + u.weight, 0),
          0,
        ) / ws.length;
      if (share > 0) {
        parts.push(
          `<rect x="${r1(M.left + i * slot + 1)}" y="${r1(y(base + share))}" width="${r1(slot - 2)}" height="${r1(plotH * share)}" fill="${g.colour}"><title>window ${i + 1}: ${g.name} ${(100 * share).toFixed(1)}%</title></rect>`,
        );
      }
      base += share;
    }
    bpb.push(ws.reduce((a, w) => a + (w?.heldout_bpb_after ?? 0), 0) / ws.length);
  }
  const hi = Math.ceil(Math.max(...bpb));
  const lo = Math.floor(Math.min(...bpb));
  const yb = (v: number) => M.top + plotH * (1 - (v - lo) / Math.max(1e-9, hi - lo));
  const line = bpb.map((v, i) => `${r1(M.left + (i + 0.5) * slot)},${r1(yb(v))}`).join(" ");
  const axes: string[] = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    axes.push(
      `<line x1="${M.left}" x2="${M.left + plotW}" y1="${r1(y(t))}" y2="${r1(y(t))}" stroke="#eee"/>`,
      `<text x="${M.left - 6}" y="${r1(y(t) + 4)}" text-anchor="end">${100 * t}%</text>`,
    );
  }
  for (let v = lo; v <= hi; v++)
    axes.push(`<text x="${M.left + plotW + 6}" y="${r1(yb(v) + 4)}" fill="#1f4e9c">${v}</text>`);
  for (let i = 0; i < windows; i += windows > 12 ? 2 : 1)
    axes.push(
      `<text x="${r1(M.left + (i + 0.5) * slot)}" y="${HEIGHT - M.bottom + 16}" text-anchor="middle">${i + 1}</text>`,
    );
  const legend = [
    ...GROUPS.map((g) => [g.name, g.colour] as const),
    ["held-out bpb after (right axis)", "#1f4e9c"] as const,
  ]
    .map(
      ([name, colour], i) =>
        `<rect x="${M.left + i * 124}" y="14" width="12" height="12" fill="${colour}"/><text x="${M.left + i * 124 + 16}" y="24">${name}</text>`,
    )
    .join("");
  const title = `weight shares per window, mean of ${sim.seeds.length} seeds (${sim.profile} profile)`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12" role="img" aria-label="${title}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    ...axes,
    ...parts,
    `<polyline points="${line}" fill="none" stroke="#1f4e9c" stroke-width="2"/>`,
    legend,
    `<text x="${M.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">window (${title})</text>`,
    "</svg>",
    "",
  ].join("\n");
}
