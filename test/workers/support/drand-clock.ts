/**
 * A validator clock for a wanted drand round: offline, the only real pulses are those of rounds
 * 1000 and 2000, so tests set the clock so that a commit sent at the current head is encrypted to
 * one of them.
 */
import { QUICKNET } from "../../../schema/weights/drand-quicknet.ts";
import type { TimelockState } from "../../../workers/chain/chain-client.ts";
import { type RevealRoundPlan, timelockRevealRound } from "../../../workers/weights/reveal-round.ts";

export type CommitPlan = Extract<RevealRoundPlan, { kind: "commit" }>;

/** The unix time (seconds) at which a commit sent at `state`'s head targets `round`, and the plan then (ignoring LastStoredRound). */
export function clockForRound(
  state: TimelockState,
  netuid: number,
  round: number,
): { readonly nowSeconds: number; readonly plan: CommitPlan } {
  const input = {
    head: state.block.number,
    netuid,
    tempo: state.tempo,
    revealPeriodEpochs: state.revealPeriodEpochs,
    epochs: state.epochs,
  };
  const probe = timelockRevealRound({ ...input, nowSeconds: QUICKNET.genesisSeconds, lastStoredRound: 0 });
  if (probe.kind !== "commit") throw new Error(`the head ${state.block.number} is too close to the next epoch`);
  const nowSeconds = QUICKNET.genesisSeconds + 3 * round - 12 * (probe.targetBlock - state.block.number) + 1;
  // The floor at Drand.LastStoredRound is left out: tests of that refusal set the clock too.
  const plan = timelockRevealRound({ ...input, nowSeconds, lastStoredRound: 0 });
  if (plan.kind !== "commit" || plan.revealRound !== round)
    throw new Error(`the clock for round ${round} planned ${JSON.stringify(plan)}`);
  return { nowSeconds, plan };
}
