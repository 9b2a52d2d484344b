/**
 * The drand round a timelocked weights commit is encrypted to; pure, the caller reads the chain
 * and the clock.
 *
 * A commit included in a block of epoch k is revealed by the chain itself in every block of
 * epoch k + RevealPeriodEpochs, as soon as `Drand.Pulses(round)` is stored, and deleted unread
 * when epoch k + P + 1 starts (subtensor pallets/subtensor/src/coinbase/reveal_commits.rs:39-88,
 * 53-58). So the round's pulse must reach the chain inside the reveal epoch: aim a few blocks
 * after its start. Before that the weights would be public early (anyone with the pulse can
 * decrypt); after its end they are lost without notice.
 *
 * The computation is the bittensor SDK's (bittensor-drand src/drand.rs:190-258: 3 blocks past the
 * reveal epoch's first block, 12 s a block from the local clock, quicknet's genesis and period),
 * with two corrections: the reveal epoch's start comes from the runtime's own epoch model
 * (epoch-schedule.ts) where the SDK always uses the ≤ 422 modulo rule, and the modulo rule takes the
 * netuid, as the chain does, where the SDK passes the mechanism's storage index (bittensor v10.2.0
 * bittensor/core/extrinsics/weights.py:88-97; the chain: subtensor@v3.4.7-422
 * pallets/subtensor/src/subnets/weights.rs:345-347).
 */
import { EdgeError } from "../../schema/errors.ts";
import { QUICKNET, quicknetRoundAt } from "../../schema/weights/drand-quicknet.ts";
import { type EpochSource, nextEpoch } from "./epoch-schedule.ts";

/** Subtensor's target block time. */
export const BLOCK_SECONDS = 12;
/** Blocks past the reveal epoch's first block to aim at (the SDK's SECURITY_BLOCK_OFFSET). */
export const TARGET_OFFSET_BLOCKS = 3;
/**
 * A commit sent with fewer blocks than this left before the next epoch may be included in that
 * epoch instead (its bucket is the including block's epoch): wait for the epoch to start, then
 * compute again (bittensor v10.2.0 tests/e2e_tests/test_commit_reveal.py:95-102 does the same).
 */
export const MIN_LEAD_BLOCKS = 6;

/** What the chain says the round depends on, and the local clock. */
export interface RevealRoundInput {
  /** The best block. */
  readonly head: number;
  /** Unix time now, seconds. */
  readonly nowSeconds: number;
  readonly netuid: number;
  /** Tempo(netuid). */
  readonly tempo: number;
  /** RevealPeriodEpochs(netuid): 1–100. */
  readonly revealPeriodEpochs: number;
  readonly epochs: EpochSource;
  /** Drand.LastStoredRound: the pool refuses a round below it. */
  readonly lastStoredRound: number;
}

/** Commit now, encrypted to `revealRound`, or wait for the next epoch to start and ask again. */
export type RevealRoundPlan =
  | {
      readonly kind: "commit";
      readonly revealRound: number;
      /** The first block of the epoch the commit will be revealed in, if it is included before `nextEpochStartBlock`. */
      readonly revealEpochStartBlock: number;
      /** The block whose expected time the round is taken at: revealEpochStartBlock + 3. */
      readonly targetBlock: number;
      readonly nextEpochStartBlock: number;
      /** Rounds drand has published (by the local clock) that the chain has not stored yet: its lag. */
      readonly drandLagRounds: number;
    }
  | {
      readonly kind: "wait";
      /** Ask again once the head has reached this block (the next epoch has started). */
      readonly waitUntilBlock: number;
      readonly nextEpochStartBlock: number;
    };

/**
 * The round to encrypt a commit sent now to (docs/PROTOCOL.md §8.2).
 * Throws REVEAL_ROUND_INVALID rather than return a round below Drand.LastStoredRound.
 */
export function timelockRevealRound(input: RevealRoundInput): RevealRoundPlan {
  const { head, nowSeconds, revealPeriodEpochs, lastStoredRound } = input;
  if (!Number.isSafeInteger(head) || head < 0) throw new RangeError(`head ${head} is not a block number`);
  if (!Number.isFinite(nowSeconds)) throw new RangeError(`now ${nowSeconds} is not a time`);
  if (!Number.isSafeInteger(revealPeriodEpochs) || revealPeriodEpochs < 1)
    throw new RangeError(`RevealPeriodEpochs ${revealPeriodEpochs} is below 1`);
  if (!Number.isSafeInteger(lastStoredRound) || lastStoredRound < 0)
    throw new RangeError(`LastStoredRound ${lastStoredRound} is not a round`);

  const next = nextEpoch(input.epochs, input.netuid, input.tempo, head);
  const N = next.startBlock;
  if (N - head < MIN_LEAD_BLOCKS) {
    // An overdue epoch (N ≤ head, stateful model) fires in the next block.
    return { kind: "wait", waitUntilBlock: Math.max(N, head + 1), nextEpochStartBlock: N };
  }
  const revealEpochStartBlock = N + (revealPeriodEpochs - 1) * next.period;
  const targetBlock = revealEpochStartBlock + TARGET_OFFSET_BLOCKS;
  const revealRound = quicknetRoundAt(nowSeconds + (targetBlock - head) * BLOCK_SECONDS);
  if (revealRound < lastStoredRound) {
    // Clamping up would pick a round whose pulse is already public: the weights could be read before
    // their reveal epoch, and a round at the edge is refused anyway once LastStoredRound moves on.
    // The local clock is behind drand's by more than the lead above (≥ 108 s): refuse, loudly.
    throw new EdgeError(
      "REVEAL_ROUND_INVALID",
      `the reveal round ${revealRound} for block ${targetBlock} is below Drand.LastStoredRound ${lastStoredRound}: ` +
        `the validator's clock is behind drand's by at least ${(lastStoredRound - revealRound) * QUICKNET.periodSeconds} s`,
      { revealRound, lastStoredRound, targetBlock, head, nowSeconds },
    );
  }
  return {
    kind: "commit",
    revealRound,
    revealEpochStartBlock,
    targetBlock,
    nextEpochStartBlock: N,
    drandLagRounds: quicknetRoundAt(nowSeconds) - lastStoredRound,
  };
}
