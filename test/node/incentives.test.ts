// The incentive mechanism's claims (SPEC §2.5, §2.6) on 2 seeds × 12 windows of `npm start`'s
// lineup, through `npm run simulate`'s runner: the reference miner's real training and personas,
// the runner's evaluation on onnxruntime-node, the scoring, peer list, weights and outer step the
// validator runs. Only the chain and wrangler are left out: the simulator calls the same modules
// the Worker does, without HTTP (test/node/local-network.test.ts runs the whole loop).
import { describe, expect, it } from "vitest";
import { ensureArtifacts } from "../../scripts/artifacts/ensure-artifacts.ts";
import { lineup } from "../../scripts/local-network/lineup.ts";
import { checkSeed, DETECTABLE_FROM } from "../../scripts/simulate/incentive-claims.ts";
import { runSimulation } from "../../scripts/simulate/run-simulation.ts";

const SEEDS = 2;
const WINDOWS = 12;

describe("the incentive claims in simulation", () => {
  it(`hold on ${SEEDS} seeds × ${WINDOWS} windows of the standard lineup`, async () => {
    const progress: string[] = [];
    const result = await runSimulation(
      {
        seeds: SEEDS,
        windows: WINDOWS,
        profile: "local",
        lineup: lineup(4),
        artifacts: await ensureArtifacts("local", (line) => progress.push(line)),
        jobs: 2,
      },
      (line) => progress.push(line),
    );
    console.log(progress.join("\n"));
    expect(result.seeds.map((s) => [s.seed, s.windows.length])).toEqual([
      [1, WINDOWS],
      [2, WINDOWS],
    ]);
    for (const seed of result.seeds) {
      for (const w of seed.windows) {
        // the weights in force after each window: every uid and the burn uid, summing to 1
        expect(w.uids.reduce((s, u) => s + u.weight, 0)).toBeCloseTo(1, 9);
        expect(w.uids.filter((u) => u.persona === "burn")).toHaveLength(1);
      }
      // every persona of the lineup is there, each cheat with a window from which it must hold nothing
      const personas = new Set(seed.windows[0]?.uids.map((u) => u.persona));
      for (const cheat of Object.keys(DETECTABLE_FROM)) expect(personas).toContain(cheat);
    }
    // claims 1–6 (scripts/simulate/incentive-claims.ts): none broken, in any window of any seed
    expect(result.seeds.flatMap(checkSeed)).toEqual([]);
  }, 1_200_000);
});
