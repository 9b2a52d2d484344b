/**
 * `npm run simulate:budget -- FILE`: how many own and random samples an evaluation needs for the
 * own-data evidence to tell the miners who train on their samples from the wrong-data trainer,
 * measured on a simulation's per-sample losses (`npm run simulate -- --samples --json FILE`).
 *
 * For each budget k (8, 16, 32, … up to what FILE holds) every evaluation is replayed `--draws`
 * times on k own and k random samples drawn without replacement from the ones measured: the
 * own-data statistic (schema/scoring/gradient-score.ts) of the subset, then the evidence over the
 * uid's windows in order (schema/scoring/own-data-evidence.ts), exactly as the scoring takes
 * them. It prints per budget and persona the statistic's mean and spread, and how often the
 * evidence is past `evidence_pay_from` after the warm-up (paid at all): separation is the
 * smaller of the honest miners' paid rate and the wrong-data trainer's unpaid rate.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { getHparams } from "../../schema/hparams.ts";
import { choiceWithoutReplacement } from "../../schema/sampling/numpy-random.ts";
import { ownDataT, type SampleLosses } from "../../schema/scoring/gradient-score.ts";
import { addEvidence, type EvidenceState, evidenceOf } from "../../schema/scoring/own-data-evidence.ts";
import { WARM_UP_WINDOWS } from "./incentive-claims.ts";
import type { SimulationResult } from "./simulation-result.ts";

/** Personas whose evidence the table reports. */
const REPORTED = ["honest", "lazy", "small-batch", "wrong-data", "noise", "random-delta", "free-rider"];

const pick = (xs: readonly number[] | null | undefined, at: readonly number[]) =>
  xs ? at.map((i) => xs[i] as number) : null;

/** The evaluation restricted to k own and k random samples, drawn as numpy's choice draws them from `seed`. */
function restrict(s: SampleLosses, k: number, seed: number): SampleLosses {
  const own = choiceWithoutReplacement(seed, s.ownBefore.length, k);
  const rnd = choiceWithoutReplacement(seed + 1, s.randomBefore.length, k);
  return {
    ownBefore: pick(s.ownBefore, own) as number[],
    ownAfter: pick(s.ownAfter, own) as number[],
    randomBefore: pick(s.randomBefore, rnd) as number[],
    randomAfter: pick(s.randomAfter, rnd) as number[],
    referenceOwnAfter: pick(s.referenceOwnAfter, own),
    referenceRandomAfter: pick(s.referenceRandomAfter, rnd),
  };
}

interface Tally {
  zs: number[];
  paid: number;
  windows: number;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}
function sd(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
}

/** Per persona: each replayed statistic, and how often the evidence was past pay_from after the warm-up. */
export function budgetTally(sim: SimulationResult, k: number, draws: number): Map<string, Tally> {
  const scoring = getHparams(sim.profile).scoring;
  const out = new Map<string, Tally>();
  for (const seed of sim.seeds) {
    const uids = [...new Set(seed.windows.flatMap((w) => w.uids.map((u) => u.uid)))];
    for (const uid of uids) {
      const persona = seed.windows[0]?.uids.find((u) => u.uid === uid)?.persona ?? "";
      if (!REPORTED.includes(persona)) continue;
      const t = out.get(persona) ?? { zs: [], paid: 0, windows: 0 };
      out.set(persona, t);
      for (let d = 0; d < draws; d++) {
        let e: EvidenceState = { evidenceSum: 0, evidenceWeight: 0 };
        for (const w of seed.windows) {
          const s = w.uids.find((u) => u.uid === uid)?.sample_losses;
          if (s && s.ownBefore.length >= k && s.randomBefore.length >= k) {
            const z = ownDataT(
              restrict(s, k, (((k * 7919 + d) * 104_729 + uid) * 1_000_003 + w.window * 2 + seed.seed) >>> 0),
            );
            if (z !== null) {
              t.zs.push(z);
              e = addEvidence(e, z, scoring);
            }
          }
          if (w.window > WARM_UP_WINDOWS) {
            t.windows++;
            if (evidenceOf(e) > scoring.evidence_pay_from) t.paid++;
          }
        }
      }
    }
  }
  return out;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { draws: { type: "string", default: "20" } },
  });
  const file = positionals[0];
  if (!file) {
    console.error(
      "usage: npm run simulate:budget -- FILE [--draws 20]   (FILE from npm run simulate -- --samples --json FILE)",
    );
    process.exit(2);
  }
  const sim = JSON.parse(readFileSync(file, "utf8")) as SimulationResult;
  const measured = Math.min(
    ...sim.seeds.flatMap((s) =>
      s.windows.flatMap((w) => w.uids.flatMap((u) => (u.sample_losses ? [u.sample_losses.ownBefore.length] : []))),
    ),
  );
  if (!Number.isFinite(measured)) {
    console.error(`${file} holds no per-sample losses: run npm run simulate with --samples`);
    process.exit(2);
  }
  const draws = Number(values.draws);
  const tokens = getHparams(sim.profile).model.seq_len;
  console.log(
    `${file}: ${sim.seeds.length} seeds × ${sim.seeds[0]?.windows.length} windows, ${measured} samples of ${tokens} tokens a side, ${draws} draws per budget`,
  );
  console.log("| own = random samples | tokens a side | persona | statistic mean ± sd | paid after warm-up |");
  console.log("|---|---|---|---|---|");
  for (let k = 8; k <= measured; k *= 2) {
    const tally = budgetTally(sim, k, draws);
    for (const [persona, t] of [...tally].sort(([a], [b]) => REPORTED.indexOf(a) - REPORTED.indexOf(b))) {
      console.log(
        `| ${k} | ${k * tokens} | ${persona} | ${mean(t.zs).toFixed(2)} ± ${sd(t.zs).toFixed(2)} | ${((100 * t.paid) / t.windows).toFixed(1)}% |`,
      );
    }
    const honest = tally.get("honest");
    const wrong = tally.get("wrong-data");
    if (honest && wrong) {
      const separation = Math.min(honest.paid / honest.windows, 1 - wrong.paid / wrong.windows);
      console.log(`| ${k} | ${k * tokens} | **separation** | | **${(100 * separation).toFixed(1)}%** |`);
    }
  }
}
