/**
 * `npm run simulate`: the incentive mechanism measured without chain or wrangler. A lineup of
 * miners (the reference miner's training and personas) and the validator's own code (validation,
 * copy detection, the runner's evaluation, scoring, peer list, weights, the outer step) run
 * window after window; a line per window on stderr.
 *
 *   npm run simulate -- [--seeds 3] [--windows 24] [--json FILE] [--table FILE] [--chart FILE.svg]
 *                       [--profile local]
 *                       [--lineup honest=4,copier,free-rider,…] [--jobs N] [--samples]
 *
 * The default lineup is `npm start`'s: 4 honest miners and one of every other persona (a copier
 * copies the first honest miner). Seeds run side by side, each on one thread (--jobs caps how
 * many at once). --samples keeps each evaluation's per-sample losses in FILE (for
 * `npm run simulate:budget`); --table FILE writes the per-window figures as markdown
 * (simulation-table.ts), --chart FILE.svg draws the weight shares and held-out loss per window
 * (simulation-chart.ts). It ends with the incentive claims (incentive-claims.ts) checked.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ensureArtifacts } from "./artifacts/ensure-artifacts.ts";
import { lineup, type MinerSpec } from "./local-network/lineup.ts";
import { PERSONAS, type PersonaName } from "./miner/personas.ts";
import { checkSeed } from "./simulate/incentive-claims.ts";
import { runSimulation } from "./simulate/run-simulation.ts";
import { simulationChart } from "./simulate/simulation-chart.ts";
import { simulationTable } from "./simulate/simulation-table.ts";

function usage(message: string): never {
  console.error(`simulate: ${message}`);
  process.exit(2);
}

/** `honest=4,copier,lazy` → specs named Miner01…; a copier copies the first honest miner. */
export function parseLineup(text: string): MinerSpec[] {
  const specs: MinerSpec[] = [];
  const name = () => `Miner${String(specs.length + 1).padStart(2, "0")}`;
  for (const part of text.split(",").filter(Boolean)) {
    const [persona, count = "1"] = part.split("=");
    if (!(PERSONAS as readonly string[]).includes(persona as string))
      usage(`unknown persona ${JSON.stringify(persona)} (known: ${PERSONAS.join(", ")})`);
    if (!/^[1-9]\d*$/.test(count)) usage(`${part}: a count is a positive integer`);
    for (let i = 0; i < Number(count); i++) specs.push({ name: name(), persona: persona as PersonaName });
  }
  const victim = specs.find((s) => s.persona === "honest")?.name;
  return specs.map((s) => {
    if (s.persona !== "copier") return s;
    if (!victim) usage("a copier needs an honest miner to copy");
    return { ...s, copies: victim };
  });
}

const positive = (v: string | undefined, what: string, fallback: number) => {
  if (v === undefined) return fallback;
  if (!/^[1-9]\d*$/.test(v)) usage(`${what} takes a positive integer, got ${v}`);
  return Number(v);
};

if (import.meta.main) {
  let values: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      options: {
        seeds: { type: "string" },
        windows: { type: "string" },
        json: { type: "string" },
        table: { type: "string" },
        chart: { type: "string" },
        profile: { type: "string", default: "local" },
        lineup: { type: "string" },
        jobs: { type: "string" },
        samples: { type: "boolean", default: false },
      },
    }).values;
  }
  try {
    values = parse();
  } catch (e) {
    usage((e as Error).message);
  }
  const seeds = positive(values.seeds, "--seeds", 3);
  const windows = positive(values.windows, "--windows", 24);
  // Each seed runs single-threaded (one ONNX thread): all at once keeps every core busy to the end.
  const jobs = Math.min(seeds, positive(values.jobs, "--jobs", seeds));
  const specs = values.lineup ? parseLineup(values.lineup) : lineup(4);
  const profile = values.profile as string;
  const artifacts = await ensureArtifacts(profile, (line) => console.error(line));

  console.error(
    `simulating ${seeds} seed(s) × ${windows} windows of the ${profile} profile, ${specs.length} miners, ${jobs} at a time`,
  );
  const out = await runSimulation(
    { seeds, windows, profile, lineup: specs, artifacts, jobs, sampleLosses: values.samples },
    (line) => console.error(line),
  );
  if (values.json) {
    writeFileSync(values.json, `${JSON.stringify(out)}\n`);
    console.error(`results written to ${path.resolve(values.json)}`);
  }
  if (values.table) {
    writeFileSync(values.table, simulationTable(out));
    console.error(`tables written to ${path.resolve(values.table)}`);
  }
  if (values.chart) {
    writeFileSync(values.chart, simulationChart(out));
    console.error(`chart written to ${path.resolve(values.chart)}`);
  }
  const failures = out.seeds.flatMap(checkSeed);
  console.error(
    failures.length ? `incentive claims broken ${failures.length} time(s):` : "every incentive claim holds",
  );
  for (const f of failures) console.error(`  claim ${f.claim}, seed ${f.seed}, window ${f.window}: ${f.what}`);
  console.error(`wall time ${out.wall_seconds.toFixed(1)} s for ${seeds} × ${windows} windows`);
}
