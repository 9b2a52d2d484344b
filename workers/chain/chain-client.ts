/**
 * The validator's view of the chain, behind one interface: the real implementation talks to a
 * subtensor node with @polkadot/api (polkadot-chain-client.ts); tests of the layers above use a
 * fake (test/workers/fakes/fake-chain.ts).
 */

/** A block: its number, hash, and the timestamp of its `timestamp.set` inherent (ms). */
export interface BlockRef {
  readonly number: number;
  readonly hash: string;
  readonly timestampMs: number;
}

/** One uid of a subnet as the metagraph holds it. */
export interface NeuronInfo {
  readonly uid: number;
  /** ss58 (prefix 42). */
  readonly hotkey: string;
  readonly coldkey: string;
  /** Alpha stake in rao. */
  readonly stakeRao: bigint;
  readonly validatorPermit: boolean;
  readonly registrationBlock: number;
}

export interface Metagraph {
  /** The block the metagraph was read at. */
  readonly block: BlockRef;
  readonly neurons: readonly NeuronInfo[];
}

export interface ChainClient {
  /** The best block. */
  head(): Promise<BlockRef>;
  /** Block n, or null if the chain has not produced it yet. */
  block(n: number): Promise<BlockRef | null>;
  /** Every uid of the subnet. */
  metagraph(netuid: number): Promise<Metagraph>;
}
