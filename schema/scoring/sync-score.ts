/**
 * How many outer steps behind the global model a miner trained from (Templar's debug-dict check,
 * docs/PROTOCOL.md §4.5). Each submission carries a few of the miner's parameter
 * values (`param_sample`); the validator compares them with the same positions of θ_S, in units
 * of how far those positions have typically moved per outer step (an EMA of |Δθ| between
 * successive checkpoints).
 */
import type { SyncHparams } from "../hparams.ts";

/** A few values per parameter name: a submission's param_sample, θ_S at the same positions, or step sizes. */
export type ParamSample = Readonly<Record<string, readonly number[]>>;

/** Below this a step size is treated as this (Templar's 1e-9 floor), so a frozen position cannot divide by 0. */
const MIN_STEP = 1e-9;

/**
 * Steps behind: the lower median over every compared value of |θ_S − θ_miner| / step size.
 * `stepEma` null (no outer step seen yet) uses `fallbackStep` (the outer learning rate).
 * Nothing to compare gives Infinity, which scores 0.
 */
export function stepsBehind(
  miner: ParamSample,
  validator: ParamSample,
  stepEma: ParamSample | null,
  fallbackStep: number,
): number {
  const ratios: number[] = [];
  for (const [name, theirs] of Object.entries(miner)) {
    const ours = validator[name];
    if (!ours) continue;
    const steps = stepEma?.[name];
    const n = Math.min(theirs.length, ours.length);
    for (let i = 0; i < n; i++) {
      const step = Math.max(steps?.[i] ?? fallbackStep, MIN_STEP);
      ratios.push(Math.abs((ours[i] as number) - (theirs[i] as number)) / step);
    }
  }
  if (ratios.length === 0) return Number.POSITIVE_INFINITY;
  ratios.sort((a, b) => a - b);
  return ratios[Math.floor((ratios.length - 1) / 2)] as number; // torch.median: the lower middle
}

/** The sync factor of the final score: (1 − min(x, max)/max)^power, 1 in step, 0 at max steps behind. */
export function syncScore(steps: number, sync: SyncHparams): number {
  const x = Math.min(steps, sync.sync_max_steps) / sync.sync_max_steps;
  return Math.max(0, 1 - x) ** sync.sync_power;
}

/** The step-size EMA after one more outer step from `previous` to `current` (α on the new |Δθ|). */
export function nextStepEma(
  ema: ParamSample | null,
  previous: ParamSample,
  current: ParamSample,
  alpha: number,
): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, now] of Object.entries(current)) {
    const before = previous[name];
    if (!before) continue;
    const old = ema?.[name];
    out[name] = now.map((v, i) => {
      const delta = Math.abs(v - (before[i] as number));
      const prior = old?.[i];
      return prior === undefined ? delta : alpha * delta + (1 - alpha) * prior;
    });
  }
  return out;
}
