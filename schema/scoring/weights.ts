/**
 * From final scores to the weight vector (Templar's update_weights: docs/PROTOCOL.md §4.6): a
 * fixed burn share to the burn uid; the rest to miners with a positive final score, ranked: a
 * gather tier on a linear top:1 ramp and a reserve tier on a geometric decay, the reserve capped
 * at half the smallest gather weight, then everything renormalised so the burn share is exact.
 */
import type { WeightHparams } from "../hparams.ts";

export interface WeightVector {
  /** uid → weight; the weights sum to 1. Only uids with a positive weight, plus the burn uid. */
  readonly weights: ReadonlyMap<number, number>;
  /** Ranked uids in the gather tier and in the reserve tier. */
  readonly gather: readonly number[];
  readonly reserve: readonly number[];
}

/** `n` evenly spaced values from `from` to `to` (numpy.linspace). */
function linspace(from: number, to: number, n: number): number[] {
  if (n === 1) return [from];
  return Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The weight vector for the uids' final scores. Ties rank the lower uid first. */
export function weightVector(finalScores: ReadonlyMap<number, number>, hp: WeightHparams): WeightVector {
  const burn = Math.min(1, Math.max(0, hp.burn_rate));
  // Templar ranks the burn uid like any miner and then overwrites its weight; here it takes no
  // tier slot, so a miner at uid burn_uid cannot push a paying miner out of the gather tier.
  const ranked = [...finalScores]
    .filter(([uid, score]) => score > 0 && uid !== hp.burn_uid)
    .sort(([ua, a], [ub, b]) => b - a || ua - ub)
    .map(([uid]) => uid);
  const gather = ranked.slice(0, hp.gather_peer_count);
  const reserve = ranked.slice(hp.gather_peer_count, hp.gather_peer_count + hp.reserve_peer_count);

  const gatherProfile = linspace(hp.gather_top_ratio, 1, gather.length);
  const gatherSum = sum(gatherProfile);
  const gatherW = gatherProfile.map((p) => ((1 - burn) * hp.gather_share * p) / gatherSum);
  const reserveProfile = reserve.map((_, i) => hp.reserve_decay_ratio ** i);
  const reserveSum = sum(reserveProfile);
  let reserveW = reserveProfile.map((p) => ((1 - burn) * (1 - hp.gather_share) * p) / reserveSum);
  if (gatherW.length && reserveW.length) {
    // A reserve miner must never out-earn a gather miner.
    const minGather = Math.min(...gatherW);
    const maxReserve = Math.max(...reserveW);
    if (maxReserve > minGather) reserveW = reserveW.map((w) => ((w * minGather) / maxReserve) * 0.5);
  }

  const weights = new Map<number, number>();
  const nonBurn = sum(gatherW) + sum(reserveW);
  if (nonBurn > 0) {
    const scale = (1 - burn) / nonBurn;
    for (const [i, uid] of gather.entries()) weights.set(uid, (gatherW[i] as number) * scale);
    for (const [i, uid] of reserve.entries()) weights.set(uid, (reserveW[i] as number) * scale);
    if (burn > 0) weights.set(hp.burn_uid, burn);
  } else {
    weights.set(hp.burn_uid, 1); // nobody earned anything: all of it is burned
  }
  return { weights, gather, reserve };
}

/** The vector as `set_weights` takes it: uids ascending, u16 values scaled so the largest is 65535. */
export function chainWeights(weights: ReadonlyMap<number, number>): { uids: number[]; values: number[] } {
  const entries = [...weights].filter(([, w]) => w > 0).sort(([a], [b]) => a - b);
  const max = Math.max(0, ...entries.map(([, w]) => w));
  if (max === 0) return { uids: [], values: [] };
  return { uids: entries.map(([uid]) => uid), values: entries.map(([, w]) => Math.round((w / max) * 65535)) };
}

/** The weight vector for these final scores, as stored and as sent (uids ascending, u16 values). */
export function weightSetOf(finalScores: ReadonlyMap<number, number>, hp: WeightHparams) {
  const vector = weightVector(finalScores, hp);
  const { uids, values } = chainWeights(vector.weights);
  return { vector, uids, values, weights: uids.map((u) => vector.weights.get(u) as number) };
}
