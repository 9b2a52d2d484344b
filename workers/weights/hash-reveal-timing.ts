/**
 * When a hash commit (`commit_weights`) may be revealed; pure, the caller reads the chain.
 *
 * The chain accepts `reveal_weights` only in the block range of exactly one epoch, the commit's
 * epoch + RevealPeriodEpochs, and refuses it before (RevealTooEarly) and after (ExpiredWeightCommit;
 * spec 425's pool says CommitBlockNotInRevealRange for both). So the reveal is sent when this says
 * "now", waited for when it says "too early", and never sent again once it says "expired": that
 * commit is lost and the weights must be committed anew.
 *
 * The commit's epoch: on spec ≤ 422 `WeightCommits(netuid_index, hotkey)` holds (hash, commit block,
 * first reveal block, last reveal block) and epochs follow from block numbers (subtensor@v3.4.7-422
 * pallets/subtensor/src/subnets/weights.rs:1252-1295; the same on spec 218); on spec ≥ 423 it holds
 * (hash, commit epoch, commit block, 0) and the current epoch is SubnetEpochIndex with a look-ahead
 * for a block in which an epoch fires (subtensor pallets/subtensor/src/subnets/weights.rs:1255-1300).
 */
import { type EpochSource, moduloEpoch, moduloEpochStart, nextEpoch } from "./epoch-schedule.ts";

/** Where a hash commit sits in the subnet's epoch count, as the runtime stores it. */
export type CommitEpoch =
  /** Spec ≤ 422: the block that included the commit (WeightCommits' second field there). */
  | { readonly kind: "block"; readonly commitBlock: number }
  /** Spec ≥ 423: WeightCommits' second field, and SubnetEpochIndex(netuid) read at the head. */
  | { readonly kind: "epoch"; readonly commitEpoch: number; readonly currentEpoch: number };

export interface HashRevealInput {
  /** The best block: a reveal sent now is included in head + 1 at the earliest. */
  readonly head: number;
  readonly netuid: number;
  /** Tempo(netuid). */
  readonly tempo: number;
  /** RevealPeriodEpochs(netuid). */
  readonly revealPeriodEpochs: number;
  /** The modulo source goes with a `block` commit, the runtime API or storage with an `epoch` one. */
  readonly epochs: EpochSource;
  readonly commit: CommitEpoch;
}

/** What to do with the reveal at this head. */
export type HashRevealTiming =
  | {
      readonly kind: "too-early";
      /** Send once the head has reached this block (an estimate on the stateful model: ask again then). */
      readonly waitUntilBlock: number;
      readonly revealEpoch: number;
    }
  | {
      readonly kind: "now";
      /** The last block the reveal can be included in (on the stateful model, unless the owner brings the next epoch forward). */
      readonly lastBlock: number;
      readonly revealEpoch: number;
    }
  | { readonly kind: "expired"; readonly revealEpoch: number };

/** Whether a reveal sent at `head` lands in its reveal epoch: too early (wait until block X), now, or expired. */
export function hashRevealTiming(input: HashRevealInput): HashRevealTiming {
  const { head, netuid, tempo, revealPeriodEpochs: P, epochs, commit } = input;
  if (!Number.isSafeInteger(head) || head < 0) throw new RangeError(`head ${head} is not a block number`);
  if (!Number.isSafeInteger(P) || P < 1) throw new RangeError(`RevealPeriodEpochs ${P} is below 1`);
  const included = head + 1;

  if (epochs.kind === "modulo") {
    if (commit.kind !== "block") throw new RangeError("the modulo epoch model counts a commit by its block");
    const revealEpoch = moduloEpoch(commit.commitBlock, netuid, tempo) + P;
    const first = moduloEpochStart(revealEpoch, netuid, tempo);
    const last = moduloEpochStart(revealEpoch + 1, netuid, tempo) - 1;
    if (included < first) return { kind: "too-early", waitUntilBlock: first - 1, revealEpoch };
    if (included > last) return { kind: "expired", revealEpoch };
    return { kind: "now", lastBlock: last, revealEpoch };
  }

  if (commit.kind !== "epoch") throw new RangeError("the stateful epoch model counts a commit by its stored epoch");
  const revealEpoch = commit.commitEpoch + P;
  const next = nextEpoch(epochs, netuid, tempo, head);
  // The next epoch fires in its start block, or in the next block if it is overdue.
  const fires = Math.max(next.startBlock, included);
  const epochOfIncluded = commit.currentEpoch + (included >= next.startBlock ? 1 : 0);
  if (epochOfIncluded > revealEpoch) return { kind: "expired", revealEpoch };
  if (epochOfIncluded === revealEpoch) {
    const lastBlock = included >= next.startBlock ? fires + next.period - 1 : next.startBlock - 1;
    return { kind: "now", lastBlock, revealEpoch };
  }
  const revealStart = fires + (revealEpoch - commit.currentEpoch - 1) * next.period;
  return { kind: "too-early", waitUntilBlock: revealStart - 1, revealEpoch };
}
