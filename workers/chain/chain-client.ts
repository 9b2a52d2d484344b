/**
 * The validator's view of the chain, behind one interface: the real implementation talks to a
 * subtensor node with @polkadot/api (polkadot-chain-client.ts); tests of the layers above use a
 * fake (test/workers/support/fake-chain.ts).
 *
 * Writes are two-step because the cron Worker speaks JSON-RPC over HTTP, which has no
 * subscriptions: a transaction is handed to the pool (`submit*`, which throws the pool's
 * rejection as an EdgeError), and a later tick looks for it in the blocks that followed
 * (`findExtrinsic`), reading its dispatch outcome from the block's events.
 */
import type { HotkeySigner } from "../../schema/keys/hotkey-signer.ts";
import type { EpochSource } from "../weights/epoch-schedule.ts";

/**
 * The deadline of a chain call when CHAIN_CALL_TIMEOUT_MS is unset. A read answers in well under
 * a second from a healthy node; 10 s is below one finney block (12 s) and about three local ones
 * (3 s), so a hung node costs a tick or a miner's request at most this, not the whole stall.
 */
export const DEFAULT_CHAIN_CALL_TIMEOUT_MS = 10_000;

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
  /**
   * Stake in rao: the metagraph's TotalStake (alpha + TaoWeight × root, after child-key
   * inheritance) where the runtime has the selective metagraph; TotalHotkeyAlpha where it does not (spec 218).
   */
  readonly stakeRao: bigint;
  readonly validatorPermit: boolean;
  readonly registrationBlock: number;
}

export interface Metagraph {
  /** The block the metagraph was read at. */
  readonly block: BlockRef;
  readonly neurons: readonly NeuronInfo[];
}

/** A hotkey's commitment on the subnet (Commitments.CommitmentOf), its first field as text. */
export interface Commitment {
  readonly hotkey: string;
  /** Block the commitment was made at. */
  readonly block: number;
  /** The first field's text ("" if there is none). */
  readonly text: string;
  /** Every field, in order. */
  readonly fields: readonly CommitmentField[];
}

/** One field of a commitment (a pallet_commitments `Data` value), decoded (commitment-data.ts). */
export interface CommitmentField {
  /** The variant as the runtime's metadata names it: "Raw64", "BigRaw", "Sha256", "TimelockEncrypted", "None", … */
  readonly variant: string;
  /**
   * Raw and BigRaw bytes that are valid UTF-8: the text itself. Otherwise a labelled form: "raw:0x…",
   * "sha256:0x…" (and "blake2-256", "keccak-256", "sha3-256"), "timelock-encrypted(round R):0x…",
   * "reset-bonds", "" for None, "<Variant>:0x<SCALE bytes>" for a variant not known here.
   */
  readonly text: string;
  /** The field's bytes, 0x-hex: raw bytes, a digest, a ciphertext; "0x" for None and ResetBondsFlag. */
  readonly hex: string;
  /** TimelockEncrypted's reveal round. */
  readonly revealRound?: number;
}

/** What the chain allows a hotkey to do with weights on a subnet now, read per netuid. */
export interface WeightsState {
  readonly block: BlockRef;
  /** The hotkey's uid, or null if it is not registered on the subnet. */
  readonly uid: number | null;
  /** While on, `set_weights` fails: weights go through commit and reveal. */
  readonly commitRevealEnabled: boolean;
  /** WeightsSetRateLimit: blocks between two sets by one uid. */
  readonly rateLimitBlocks: number;
  /** LastUpdate(netuid_index)[uid]: the block of the uid's last weights or commit (0 if never), null if unregistered. */
  readonly lastUpdateBlock: number | null;
  /** WeightsVersionKey: the lowest version_key the subnet accepts. */
  readonly versionKey: bigint;
  /** The stake a hotkey needs to set weights (WeightsMinStake on spec 218). */
  readonly minStakeRao: bigint;
  /** The hotkey's alpha stake on the subnet (TotalHotkeyAlpha, before child-key inheritance). */
  readonly stakeRao: bigint;
  /** Its root stake: TotalHotkeyAlpha(hotkey, 0). */
  readonly rootStakeRao: bigint;
  /** TaoWeight, a fraction of u64::MAX; 0 where the runtime has none. */
  readonly taoWeight: bigint;
  /** SubnetOwnerHotkey(netuid); null where unset or the runtime has none. */
  readonly subnetOwnerHotkey: string | null;
  /** Whether ParentKeys(hotkey, netuid) names a parent: then it inherits stake the pre-check does not count. */
  readonly hasParentKeys: boolean;
  /** The hotkey's hash commits (WeightCommits), oldest first. */
  readonly hashCommits: readonly HashCommitRecord[];
  /** SubnetEpochIndex(netuid) on the stateful epoch model (spec ≥ 423); null on the modulo one. */
  readonly subnetEpochIndex: number | null;
}

/** One stored hash commit: its hash, the block that included it, and its epoch where the runtime stores one. */
export interface HashCommitRecord {
  /** 0x-hex. */
  readonly hash: string;
  readonly commitBlock: number;
  /** The commit's epoch on spec ≥ 423; null on ≤ 422, where the epoch follows from the block. */
  readonly commitEpoch: number | null;
}

/** A weight vector as the chain takes it: u16 values, one per uid. */
export interface WeightsCall {
  readonly netuid: number;
  readonly uids: readonly number[];
  /** u16; the chain scales them so the largest is 65535. */
  readonly values: readonly number[];
  readonly versionKey: bigint;
}

/** The reveal of a commit: the same vector and the salt its hash was made with. */
export interface RevealCall extends WeightsCall {
  /** u16 words. */
  readonly salt: readonly number[];
}

/**
 * What a timelocked weights commit depends on, read for one subnet (and mechanism) at one block.
 * Items a runtime lacks are null (spec 218 has no Drand pallet and no timelocked calls).
 */
export interface TimelockState {
  readonly block: BlockRef;
  /** The mechanism's storage index, netuid + mecid · 4096: the first key of its Weights and commits. */
  readonly netuidIndex: number;
  /** CommitRevealWeightsEnabled(netuid). */
  readonly commitRevealEnabled: boolean;
  /**
   * Whether the runtime's metadata has the call `submitTimelockedCommit` would send:
   * `commit_timelocked_weights`, or `commit_timelocked_mechanism_weights` when a mechanism id is given.
   */
  readonly timelockedCallAvailable: boolean;
  /** CommitRevealWeightsVersion: the `commit_reveal_version` a commit must carry; null if the runtime has none. */
  readonly commitRevealVersion: number | null;
  /** RevealPeriodEpochs(netuid): a commit of epoch k is revealed in epoch k + this. */
  readonly revealPeriodEpochs: number;
  /** Tempo(netuid). */
  readonly tempo: number;
  /** Drand.LastStoredRound: the pool refuses a reveal round below it; null without a Drand pallet. */
  readonly lastStoredRound: number | null;
  /** MechanismCountCurrent(netuid); 1 where the runtime has no mechanisms. */
  readonly mechanismCount: number;
  /** Where the next epoch's start comes from, in the form the pure epoch rules take. */
  readonly epochs: EpochSource;
}

/** A `commit_timelocked_weights` call (or its mechanism variant, when `mecid` is given). */
export interface TimelockedCommitCall {
  readonly netuid: number;
  /** Given: `commit_timelocked_mechanism_weights(netuid, mecid, …)`; absent: `commit_timelocked_weights`. */
  readonly mecid?: number;
  /** The TLECiphertext bytes, 0x-hex: a Uint8Array would be read as already length-prefixed. */
  readonly commitHex: string;
  readonly revealRound: number;
  /** TimelockState.commitRevealVersion, as read: the block refuses any other (IncorrectCommitRevealVersion). */
  readonly commitRevealVersion: number;
}

/** A timelocked commit as the chain keeps it (TimelockedWeightCommits) until its reveal epoch ends. */
export interface TimelockedCommit {
  /** The epoch whose bucket holds it, that of the including block: it is revealed in epoch + RevealPeriodEpochs. */
  readonly epoch: number;
  /** ss58. */
  readonly hotkey: string;
  /** The block that included it. */
  readonly block: number;
  /** 0x-hex blake2-256 of the commit bytes: the hash its TimelockedWeightsCommitted event carries. */
  readonly commitHash: string;
  readonly revealRound: number;
}

/** Which hotkey's reveal to look for, on which subnet and mechanism. */
export interface TimelockedRevealQuery {
  readonly netuid: number;
  /** Default 0. */
  readonly mecid?: number;
  /** ss58. */
  readonly hotkey: string;
}

/** The result of searching blocks for a TimelockedWeightsRevealed event. */
export interface TimelockedRevealSearch {
  /** The block whose events name the hotkey's reveal; null while not found in the blocks searched. */
  readonly revealedAt: BlockRef | null;
  /** The last block searched: the next search starts after it. */
  readonly searchedTo: number;
}

/** A transaction the pool accepted. */
export interface SubmittedTx {
  /** 0x-hex blake2-256 of the encoded extrinsic. */
  readonly txHash: string;
  readonly nonce: number;
  /** The best block when it was submitted. */
  readonly atBlock: number;
  /** The last block it can be included in (its mortal era); after that it is dropped. */
  readonly validUntilBlock: number;
}

/** Where a submitted transaction ended up. */
export type ExtrinsicOutcome =
  | { readonly kind: "success"; readonly block: BlockRef }
  /** In a block, but the call failed; `error` is "pallet.Error" (e.g. "subtensorModule.SettingWeightsTooFast"). */
  | { readonly kind: "failed"; readonly block: BlockRef; readonly error: string };

/** The result of searching blocks for a transaction. */
export interface ExtrinsicSearch {
  /** Null while not found in the blocks searched. */
  readonly outcome: ExtrinsicOutcome | null;
  /** The last block searched: the next search starts after it. */
  readonly searchedTo: number;
}

export interface ChainClient {
  /** The best block. */
  head(): Promise<BlockRef>;
  /** Block n, or null if the chain has not produced it yet. */
  block(n: number): Promise<BlockRef | null>;
  /** Every uid of the subnet. */
  metagraph(netuid: number): Promise<Metagraph>;
  /** Every commitment on the subnet. */
  commitments(netuid: number): Promise<readonly Commitment[]>;
  /** Weights currently stored for a uid (of mechanism `mecid`, default 0): [dest uid, u16 value] pairs. */
  weights(netuid: number, uid: number, mecid?: number): Promise<readonly (readonly [number, number])[]>;
  /** What the chain allows `hotkey` to do with weights on the subnet now (LastUpdate of mechanism `mecid`, default 0). */
  weightsState(netuid: number, hotkey: string, mecid?: number): Promise<WeightsState>;
  /** Hands `set_weights` to the pool, signed by `signer` with its next nonce. Pool rejections throw EdgeError. */
  submitSetWeights(signer: HotkeySigner, call: WeightsCall): Promise<SubmittedTx>;
  /** Hands `commit_weights(netuid, hash)` to the pool. */
  submitCommitWeights(signer: HotkeySigner, netuid: number, commitHash: string): Promise<SubmittedTx>;
  /** Hands `reveal_weights` to the pool. */
  submitRevealWeights(signer: HotkeySigner, call: RevealCall): Promise<SubmittedTx>;
  /** What a timelocked commit on the subnet (mechanism `mecid` if given) depends on, read at the head. */
  timelockState(netuid: number, mecid?: number): Promise<TimelockState>;
  /** Hands `commit_timelocked_weights` (or the mechanism variant) to the pool. Pool rejections throw EdgeError. */
  submitTimelockedCommit(signer: HotkeySigner, call: TimelockedCommitCall): Promise<SubmittedTx>;
  /** Every timelocked commit the chain holds for the subnet's mechanism now; [] where the runtime has none. */
  timelockedCommits(netuid: number, mecid?: number): Promise<readonly TimelockedCommit[]>;
  /** Looks for the hotkey's TimelockedWeightsRevealed in blocks fromBlock … min(head, fromBlock + maxBlocks − 1). */
  findTimelockedReveal(
    query: TimelockedRevealQuery,
    fromBlock: number,
    maxBlocks: number,
  ): Promise<TimelockedRevealSearch>;
  /** Looks for `txHash` in blocks fromBlock … min(head, fromBlock + maxBlocks − 1). */
  findExtrinsic(txHash: string, fromBlock: number, maxBlocks: number): Promise<ExtrinsicSearch>;
}
