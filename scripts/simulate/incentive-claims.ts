/**
 * What the incentive mechanism must do, checked on a simulation's results (the claims of
 * docs/SPEC.md §2.5 and §2.6, as `npm run simulate` and test/node/incentives.test.ts measure them):
 *
 * 1. after the warm-up, every window pays someone, and the miners who train on their own data
 *    (honest, lazy, small-batch) hold at least 99% of what is paid;
 * 2. every honest miner has weight in every window after the warm-up;
 * 3. each cheat has no weight from the first window its behaviour can be seen (DETECTABLE_FROM);
 * 4. lazy and small-batch are each paid less, on average after the warm-up, than every honest miner;
 * 5. no gradient whose evaluation failed, or of a uid not positively rated after the window
 *    before, goes into θ_{S+1}, except at genesis (nobody rated positive yet), and then only
 *    gradients that improved the loss on the random samples;
 * 6. from the end of the warm-up on, held-out bits per byte is at or below the reference run of
 *    docs/LOCAL_NETWORK.md window for window: the model learns at least as fast.
 */
import { OWN_DATA_TRAINERS } from "../miner/personas.ts";
import type { SeedResult, UidRecord, WindowRecord } from "./simulation-result.ts";

/** Windows at the start of a run in which claims 1 and 2 need not hold yet. */
export const WARM_UP_WINDOWS = 3;

/**
 * The first window from which each cheat must hold no weight: the window in which its behaviour
 * first shows (the replayer is honest in its first window and replays from its second).
 */
export const DETECTABLE_FROM: Readonly<Record<string, number>> = {
  copier: 1,
  "free-rider": 1,
  noise: 1,
  late: 1,
  "wrong-data": 1,
  replayer: 2,
  "aggregate-replayer": 1,
  "random-delta": 1,
  "huge-values": 1,
};

/**
 * Held-out bits per byte after each of the 12 windows of docs/LOCAL_NETWORK.md's reference run
 * (θ_{S+1}): a run must be at or below it, window for window.
 */
export const REFERENCE_HELDOUT_BPB: readonly number[] = [
  7.724, 7.215, 6.739, 6.324, 5.926, 5.51, 5.145, 4.802, 4.522, 4.288, 4.128, 4.012,
];

/** One broken claim: which, where, and what was seen. */
export interface ClaimFailure {
  readonly claim: number;
  readonly seed: number;
  readonly window: number;
  readonly what: string;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const share = (w: WindowRecord, pick: (u: UidRecord) => boolean) => sum(w.uids.filter(pick).map((u) => u.weight));

/** Every failure of the claims in one seed's windows. */
export function checkSeed(seed: SeedResult): ClaimFailure[] {
  const out: ClaimFailure[] = [];
  const fail = (claim: number, window: number, what: string) => out.push({ claim, seed: seed.seed, window, what });
  const after = seed.windows.filter((w) => w.window > WARM_UP_WINDOWS);

  for (const w of after) {
    const paid = share(w, (u) => u.persona !== "burn");
    const trainers = share(w, (u) => (OWN_DATA_TRAINERS as readonly string[]).includes(u.persona));
    if (!(paid > 0)) fail(1, w.window, "nothing paid");
    else if (trainers < 0.99 * paid)
      fail(1, w.window, `own-data trainers hold ${((100 * trainers) / paid).toFixed(1)}% of the paid weight`);
    for (const u of w.uids.filter((x) => x.persona === "honest" && !(x.weight > 0)))
      fail(2, w.window, `honest uid ${u.uid} has no weight`);
  }

  for (const w of seed.windows) {
    for (const u of w.uids) {
      const from = DETECTABLE_FROM[u.persona];
      if (from !== undefined && w.window >= from && u.weight > 0)
        fail(3, w.window, `${u.persona} uid ${u.uid} has weight ${u.weight.toFixed(4)}`);
    }
  }

  const meanWeight = (uid: number) =>
    sum(after.map((w) => w.uids.find((u) => u.uid === uid)?.weight ?? 0)) / after.length;
  const uidsOf = (persona: string) => [
    ...new Set(seed.windows.flatMap((w) => w.uids.filter((u) => u.persona === persona).map((u) => u.uid))),
  ];
  const honestMin = Math.min(...uidsOf("honest").map(meanWeight));
  for (const persona of ["lazy", "small-batch"]) {
    for (const uid of uidsOf(persona)) {
      const mean = meanWeight(uid);
      if (after.length && !(mean < honestMin))
        fail(
          4,
          0,
          `${persona} uid ${uid} mean weight ${mean.toFixed(4)} ≥ the least-paid honest miner's ${honestMin.toFixed(4)}`,
        );
    }
  }

  seed.windows.forEach((w, i) => {
    const before = i > 0 ? (seed.windows[i - 1] as WindowRecord) : undefined;
    const ratedBefore = new Set(before?.uids.filter((u) => u.final_score > 0).map((u) => u.uid) ?? []);
    const genesis = !seed.windows.slice(0, i).some((x) => x.uids.some((u) => u.final_score > 0));
    for (const u of w.uids.filter((x) => x.peer)) {
      const e = u.evidence;
      if (e?.outcome !== "evaluated")
        fail(5, w.window, `peer uid ${u.uid} (${u.persona}) was ${e?.outcome ?? "not scored"}`);
      else if (genesis ? !((e.gradient_score ?? 0) > 0) : !ratedBefore.has(u.uid))
        fail(
          5,
          w.window,
          genesis
            ? `genesis peer uid ${u.uid} (${u.persona}) did not improve the random samples' loss`
            : `peer uid ${u.uid} (${u.persona}) was not positively rated`,
        );
    }
  });

  for (const w of after) {
    const reference = REFERENCE_HELDOUT_BPB[w.window - 1];
    if (reference !== undefined && w.heldout_bpb_after > reference)
      fail(6, w.window, `held-out ${w.heldout_bpb_after.toFixed(3)} bpb above the reference run's ${reference}`);
  }
  return out;
}
