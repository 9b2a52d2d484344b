/**
 * Where a subnet's epochs fall, as the chain counts them; pure, the caller reads the chain. There
 * are two models, and which one a runtime uses is read from what it offers, never from its spec
 * number alone:
 *
 * - **stateful** (spec ≥ 423): an epoch fires in block F when F − LastEpochBlock ≥ Tempo, or when
 *   an owner-set PendingEpochAt is reached (subtensor pallets/subtensor/src/coinbase/
 *   run_coinbase.rs:1085-1100), and sets LastEpochBlock = F, PendingEpochAt = 0, SubnetEpochIndex
 *   += 1 (run_coinbase.rs:426-428). Epoch k is the blocks [F_k, F_{k+1}): its period is Tempo. The
 *   next start comes from the runtime API `SubnetInfoRuntimeApi.get_next_epoch_start_block`
 *   (run_coinbase.rs:1124-1138) or, the same rule, from that storage.
 * - **modulo** (spec ≤ 422, the local spec 218 included): block b is in epoch
 *   floor((b + netuid + 1) / (Tempo + 1)) (subtensor@v3.4.7-422 pallets/subtensor/src/subnets/
 *   weights.rs:1262-1269): its period is Tempo + 1.
 *
 * A subnet's mechanisms share its epochs (subtensor pallets/subtensor/src/coinbase/
 * reveal_commits.rs:47), so only the netuid enters here; the mechanism's storage index
 * (`netuidIndex`) keys its storage.
 */

/** Where the next epoch's start comes from: the runtime API or storage (spec ≥ 423), or the modulo rule (≤ 422). */
export type EpochSource =
  /** `get_next_epoch_start_block(netuid)`: min(LastEpochBlock + Tempo, PendingEpochAt if set). */
  | { readonly kind: "runtime-api"; readonly nextEpochStartBlock: number }
  /** `SubtensorModule.LastEpochBlock(netuid)` and `PendingEpochAt(netuid)` (0 when none is pending). */
  | { readonly kind: "storage"; readonly lastEpochBlock: number; readonly pendingEpochAt: number }
  /** Neither exists: the runtime counts epochs by block number. */
  | { readonly kind: "modulo" };

/** The start of the subnet's next epoch after the head, and how long an epoch lasts, in blocks. */
export interface NextEpoch {
  /** The first block of the next epoch (on the stateful model it may be ≤ the head: the epoch is overdue). */
  readonly startBlock: number;
  /** Tempo on the stateful model, Tempo + 1 on the modulo one. */
  readonly period: number;
}

/** Subnets per mechanism in a storage index: `netuid_index = netuid + mecid · 4096` (subtensor pallets/subtensor/src/subnets/mechanism.rs:28,35-40). */
export const MECHANISM_INDEX_STRIDE = 4096;
/** Mechanisms a subnet can have: storage indexes fill a u16 (mechanism.rs:31). */
export const MAX_MECHANISMS = 65536 / MECHANISM_INDEX_STRIDE;

/** The storage index of a subnet's mechanism: the first key of LastUpdate, Weights, WeightCommits, TimelockedWeightCommits. */
export function netuidIndex(netuid: number, mecid: number): number {
  if (!isIndex(netuid) || netuid >= MECHANISM_INDEX_STRIDE) throw new RangeError(`netuid ${netuid} is not below 4096`);
  if (!isIndex(mecid) || mecid >= MAX_MECHANISMS) throw new RangeError(`mecid ${mecid} is not below 16`);
  return netuid + mecid * MECHANISM_INDEX_STRIDE;
}

/** The next epoch's first block after `head` and the epoch period, from whichever source the runtime offers. */
export function nextEpoch(source: EpochSource, netuid: number, tempo: number, head: number): NextEpoch {
  checkTempo(tempo);
  switch (source.kind) {
    case "runtime-api":
      return { startBlock: source.nextEpochStartBlock, period: tempo };
    case "storage": {
      const auto = source.lastEpochBlock + tempo;
      const pending = source.pendingEpochAt;
      return { startBlock: pending > 0 ? Math.min(auto, pending) : auto, period: tempo };
    }
    case "modulo":
      return { startBlock: moduloEpochStart(moduloEpoch(head, netuid, tempo) + 1, netuid, tempo), period: tempo + 1 };
  }
}

/** The epoch block `block` is in on the modulo model: floor((block + netuid + 1) / (tempo + 1)). */
export function moduloEpoch(block: number, netuid: number, tempo: number): number {
  checkTempo(tempo);
  return Math.floor((block + netuid + 1) / (tempo + 1));
}

/** The first block of epoch `epoch` on the modulo model: epoch · (tempo + 1) − (netuid + 1) (v3.4.7-422 weights.rs:1280-1295). */
export function moduloEpochStart(epoch: number, netuid: number, tempo: number): number {
  checkTempo(tempo);
  return epoch * (tempo + 1) - (netuid + 1);
}

function checkTempo(tempo: number): void {
  // Tempo 0 is a subnet that never runs an epoch (the runtime API answers None): nothing would reveal.
  if (!isIndex(tempo) || tempo < 1) throw new RangeError(`tempo ${tempo}: a subnet needs a tempo of at least 1`);
}

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
