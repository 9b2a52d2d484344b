/**
 * The chain behind the fake finney node: blocks, storage per block, a transaction pool and the
 * subtensor rules a timelocked weights commit meets, on the spec-393 metadata.
 *
 * The rules are those of subtensor@v3.4.7-422, the last runtime with the modulo epoch, which is
 * the one the spec-393 metadata implies (no `get_next_epoch_start_block`, no `LastEpochBlock`):
 *
 * - pool (`SubtensorTransactionExtension::validate`, subtensor@v3.4.7-422
 *   pallets/subtensor/src/extensions/subtensor.rs:325-358): stake below the threshold → custom 1,
 *   a reveal round below `Drand.LastStoredRound` → custom 15. The same validation runs again when
 *   a block is built: a transaction that fails it then is dropped, never included.
 * - dispatch (`internal_commit_timelocked_weights`, subtensor@v3.4.7-422
 *   pallets/subtensor/src/subnets/weights.rs:298-385), in block order.
 * - reveal (`reveal_crv3_commits_for_subnet`, subtensor@v3.4.7-422
 *   pallets/subtensor/src/coinbase/reveal_commits.rs:39-203), in every block's on_initialize
 *   before its extrinsics (coinbase/block_step.rs:19), decrypting with the stored pulse through
 *   test/shared/support/chain-decrypt.ts and applying `internal_set_weights`
 *   (subnets/weights.rs:751-864).
 *
 * Not modelled: child-key stake inheritance (the stake is alpha + TaoWeight × root), the legacy
 * payload without a hotkey, fees, and any call but the four weights calls.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { GenericExtrinsic } from "@polkadot/types";
import type { Codec } from "@polkadot/types/types";
import { compactFromU8a, hexToU8a, u8aConcat, u8aEq, u8aToHex } from "@polkadot/util";
import { blake2AsU8a, decodeAddress, encodeAddress } from "@polkadot/util-crypto";
import { verify as sr25519Verify } from "@scure/sr25519";
import { QUICKNET_SIGNATURES } from "../../../shared/fixtures/drand-pulses.ts";
import { revealAsChain } from "../../../shared/support/chain-decrypt.ts";
import type {
  Amount,
  FakeFinneyConfig,
  FakeFinneyInfo,
  InclusionRecord,
  RevealRecord,
  RpcErrorBody,
  SubmissionRecord,
} from "../../../shared/support/fake-finney-control.ts";
import { type EventRecordInput, FinneyRuntime, type StorageMap } from "./runtime.ts";

const SM = "subtensorModule";
/** netuid_index = netuid + mecid · 4096 (subtensor pallets/subtensor/src/subnets/mechanism.rs:28,35-40). */
const MECHANISM_STRIDE = 4096;
/** Commits one hotkey may have in one epoch's bucket (subtensor@v3.4.7-422 subnets/weights.rs:356-363). */
const MAX_UNREVEALED = 10;
/** MAX_CRV3_COMMIT_SIZE_BYTES: `commit` is a BoundedVec of this many bytes (subtensor pallets/subtensor/src/lib.rs:60). */
const MAX_COMMIT_BYTES = 5000;
const U64_MAX = (1n << 64n) - 1n;
const DEFAULT_COLDKEY = encodeAddress(new Uint8Array(32).fill(0xcc), 42);
const DEFAULT_CALLS = [
  "subtensorModule.commitTimelockedWeights",
  "subtensorModule.commitTimelockedMechanismWeights",
  "subtensorModule.setWeights",
  "subtensorModule.setMechanismWeights",
];

/** A JSON-RPC error the node answers with. */
export class RpcFailure extends Error {
  readonly body: RpcErrorBody;
  constructor(code: number, message: string, data?: string) {
    super(`${code}: ${message}${data === undefined ? "" : `: ${data}`}`);
    this.body = data === undefined ? { code, message } : { code, message, data };
  }
}

/** A pool refusal: `1010 Invalid Transaction` with the reason as Substrate words it. */
const invalidTx = (data: string) => new RpcFailure(1010, "Invalid Transaction", data);
/** author's BadFormat: the bytes are not an extrinsic of this runtime. */
const badFormat = (why: string) => new RpcFailure(1001, "Extrinsic has invalid format", why);

/** A produced block: its header as JSON, its extrinsics, and the state after it. */
export interface FakeBlock {
  readonly number: number;
  readonly hash: string;
  readonly header: Readonly<Record<string, unknown>>;
  readonly extrinsics: readonly string[];
  readonly state: StorageMap;
}

interface PooledTx {
  readonly hex: string;
  readonly hash: string;
  readonly who: Uint8Array;
  readonly nonce: number;
  readonly call: string;
  readonly args: Readonly<Record<string, Codec>>;
  readonly death: number;
}

/** A weights call's outcome in the block: null, or the pallet error's name. */
type DispatchResult = string | null;

/** One fake chain; the server (server.ts) answers JSON-RPC from it. */
export class FakeFinneyChain {
  readonly runtime: FinneyRuntime;
  readonly blocks: FakeBlock[] = [];
  readonly submissions: SubmissionRecord[] = [];
  readonly inclusions: InclusionRecord[] = [];
  readonly reveals: RevealRecord[] = [];
  readonly #pool: PooledTx[] = [];
  readonly #injected: number[] = [];
  readonly #netuids: number[];
  readonly #genesisMs: number;
  readonly #blockMs: number;
  readonly #finalityLag: number;
  readonly #acceptCalls: ReadonlySet<string>;
  /** The state being read and written: the head's, or the next block's while it is built. */
  #state: StorageMap = new Map();

  constructor(config: FakeFinneyConfig, runtime = FinneyRuntime.load()) {
    this.runtime = runtime;
    this.#netuids = config.subnets.map((s) => s.netuid);
    this.#genesisMs = config.genesisMs ?? Date.UTC(2026, 0, 1);
    this.#blockMs = config.blockMs ?? 12_000;
    this.#finalityLag = config.finalityLag ?? 0;
    this.#acceptCalls = new Set(config.acceptCalls ?? DEFAULT_CALLS);
    this.#genesis(config);
    for (let i = 0; i < (config.startBlocks ?? 1); i++) this.produceBlock();
  }

  get head(): FakeBlock {
    return this.blocks[this.blocks.length - 1] as FakeBlock;
  }

  get genesisHash(): string {
    return (this.blocks[0] as FakeBlock).hash;
  }

  /** The finalised head: `finalityLag` blocks behind the best one. */
  get finalized(): FakeBlock {
    return this.blocks[Math.max(0, this.blocks.length - 1 - this.#finalityLag)] as FakeBlock;
  }

  /** A block by 0x hash, or null. */
  blockByHash(hash: string): FakeBlock | null {
    return this.blocks.find((b) => b.hash === hash.toLowerCase()) ?? null;
  }

  /** Submissions, inclusions, reveals and the head, for assertions. */
  info(): FakeFinneyInfo {
    return {
      head: this.head.number,
      headHash: this.head.hash,
      genesisHash: this.genesisHash,
      specVersion: this.runtime.specVersion,
      submissions: this.submissions,
      inclusions: this.inclusions,
      reveals: this.reveals,
    };
  }

  // --- storage -----------------------------------------------------------------------------

  #get<T extends Codec = Codec>(pallet: string, item: string, ...keys: unknown[]): T {
    return this.runtime.decode<T>(pallet, item, this.#state.get(this.runtime.key(pallet, item, ...keys)));
  }

  #has(pallet: string, item: string, ...keys: unknown[]): boolean {
    return this.#state.has(this.runtime.key(pallet, item, ...keys));
  }

  #num(pallet: string, item: string, ...keys: unknown[]): number {
    return Number(this.#get(pallet, item, ...keys).toString());
  }

  #big(pallet: string, item: string, ...keys: unknown[]): bigint {
    return BigInt(this.#get(pallet, item, ...keys).toString());
  }

  #put(pallet: string, item: string, keys: readonly unknown[], value: unknown): void {
    this.#state.set(this.runtime.key(pallet, item, ...keys), this.runtime.encode(pallet, item, value));
  }

  /** Writes into the head's state: what a test changes between blocks. */
  setStorage(pallet: string, item: string, keys: readonly unknown[], value: unknown): void {
    this.#put(pallet, item, keys, value);
  }

  /** The 0x-hex keys of a block's state under `prefix`, sorted as the node's trie orders them. */
  keysPaged(state: StorageMap, prefix: string, count: number, startKey?: string | null): string[] {
    const p = prefix.toLowerCase();
    const after = startKey?.toLowerCase() ?? "";
    return [...state.keys()]
      .filter((k) => k.startsWith(p) && k > after)
      .sort()
      .slice(0, count);
  }

  // --- genesis -----------------------------------------------------------------------------

  #genesis(config: FakeFinneyConfig): void {
    const put = (item: string, keys: unknown[], value: unknown) => this.#put(SM, item, keys, value);
    if (config.stakeThreshold !== undefined) put("stakeThreshold", [], big(config.stakeThreshold));
    if (config.taoWeight !== undefined) put("taoWeight", [], big(config.taoWeight));
    if (config.commitRevealVersion !== undefined) put("commitRevealWeightsVersion", [], config.commitRevealVersion);
    for (const s of config.subnets) {
      const n = s.neurons.length;
      put("networksAdded", [s.netuid], true);
      put("tempo", [s.netuid], s.tempo ?? 10);
      put("subnetworkN", [s.netuid], n);
      put("minAllowedWeights", [s.netuid], s.minAllowedWeights ?? 1);
      if (s.revealPeriodEpochs !== undefined) put("revealPeriodEpochs", [s.netuid], s.revealPeriodEpochs);
      if (s.commitRevealEnabled !== undefined) put("commitRevealWeightsEnabled", [s.netuid], s.commitRevealEnabled);
      if (s.weightsSetRateLimit !== undefined) put("weightsSetRateLimit", [s.netuid], s.weightsSetRateLimit);
      if (s.weightsVersionKey !== undefined) put("weightsVersionKey", [s.netuid], big(s.weightsVersionKey));
      if (s.maxWeightsLimit !== undefined) put("maxWeightsLimit", [s.netuid], s.maxWeightsLimit);
      if (s.mechanismCount !== undefined) put("mechanismCountCurrent", [s.netuid], s.mechanismCount);
      if (s.ownerHotkey !== undefined) put("subnetOwnerHotkey", [s.netuid], s.ownerHotkey);
      put(
        "validatorPermit",
        [s.netuid],
        s.neurons.map((x) => x.validatorPermit ?? true),
      );
      // set_last_update_for_uid writes only into an existing slot (subtensor@v3.4.7-422 utils/misc.rs:197-204).
      for (let mecid = 0; mecid < (s.mechanismCount ?? 1); mecid++)
        put("lastUpdate", [s.netuid + mecid * MECHANISM_STRIDE], new Array(n).fill(0));
      s.neurons.forEach((x, uid) => {
        put("uids", [s.netuid, x.hotkey], uid);
        put("keys", [s.netuid, uid], x.hotkey);
        put("owner", [x.hotkey], x.coldkey ?? DEFAULT_COLDKEY);
        put("blockAtRegistration", [s.netuid, uid], 0);
        put("totalHotkeyAlpha", [x.hotkey, s.netuid], big(x.alphaStake ?? 0));
        if (x.rootStake !== undefined) put("totalHotkeyAlpha", [x.hotkey, 0], big(x.rootStake));
      });
    }
    const pulses = config.pulses ?? [1000];
    for (const round of pulses) this.addPulse(round);
    this.#put("drand", "lastStoredRound", [], config.lastStoredRound ?? Math.max(0, ...pulses));
    this.#seal(0, new Uint8Array(32), []);
  }

  /** Stores drand's real pulse of `round` (1000 or 2000): what pallet_drand's off-chain worker would write. */
  addPulse(round: number): void {
    const signature = QUICKNET_SIGNATURES[round];
    if (!signature) throw new Error(`no real drand signature of round ${round} is known offline (only 1000, 2000)`);
    const randomness = bytesToHex(sha256(hexToBytes(signature)));
    this.#put("drand", "pulses", [round], { round, randomness: `0x${randomness}`, signature: `0x${signature}` });
  }

  // --- the pool ----------------------------------------------------------------------------

  /** Answers the next `times` well-formed submissions with `Custom error: code`. */
  injectPoolError(code: number, times = 1): void {
    for (let i = 0; i < times; i++) this.#injected.push(code);
  }

  /** The nonce `system_accountNextIndex` answers: the account's, plus its transactions in the pool. */
  accountNextIndex(address: string): number {
    const who = decodeAddress(address);
    return this.#accountNonce(who) + this.#pool.filter((tx) => u8aEq(tx.who, who)).length;
  }

  #accountNonce(who: Uint8Array): number {
    return Number((this.#get("system", "account", who) as unknown as { nonce: Codec }).nonce.toString());
  }

  /** `author_submitExtrinsic`: decodes, verifies and validates the extrinsic; its hash, or the pool's refusal. */
  submit(hex: string): string {
    const bytes = hexToU8a(hex);
    const record: { -readonly [K in keyof SubmissionRecord]: SubmissionRecord[K] } = {
      bytes: bytes.length,
      call: null,
      callIndex: null,
      txHash: null,
      rejected: null,
    };
    this.submissions.push(record);
    try {
      const hash = u8aToHex(blake2AsU8a(bytes, 256));
      if (this.#pool.some((p) => p.hash === hash)) throw new RpcFailure(1013, "Transaction Already Imported");
      const tx = this.#check(bytes, record);
      this.#pool.push(tx);
      record.txHash = tx.hash;
      return tx.hash;
    } catch (e) {
      if (e instanceof RpcFailure) record.rejected = e.body;
      throw e;
    }
  }

  /** Everything the pool checks, in the runtime's order: format, era, signature, nonce, call, then the subtensor rules. */
  #check(bytes: Uint8Array, record: { call: string | null; callIndex: readonly [number, number] | null }): PooledTx {
    let ext: GenericExtrinsic;
    try {
      ext = this.runtime.registry.createType("Extrinsic", bytes) as unknown as GenericExtrinsic;
    } catch (e) {
      throw badFormat(`could not decode the extrinsic: ${(e as Error).message}`);
    }
    const parsed = parseSignedV4(bytes);
    record.callIndex = [parsed.call[0] ?? 0, parsed.call[1] ?? 0];
    record.call = `${ext.method.section}.${ext.method.method}`;
    // The metadata's decoding and the byte layout of a v4 signed extrinsic must agree on every part.
    if (
      !u8aEq(ext.toU8a(), bytes) ||
      !ext.isSigned ||
      !u8aEq(ext.signer.toU8a().subarray(1), parsed.signer) ||
      !u8aEq(ext.signature.toU8a(), parsed.signature) ||
      !u8aEq(ext.era.toU8a(), parsed.era) ||
      ext.nonce.toNumber() !== parsed.nonce ||
      !u8aEq(ext.method.toU8a(), parsed.call)
    )
      throw badFormat("the metadata's decoding disagrees with the v4 signed layout");
    const args = Object.fromEntries((ext.method as unknown as { argsEntries: [string, Codec][] }).argsEntries);
    const commit = args.commit;
    if (commit && commit.toU8a(true).length > MAX_COMMIT_BYTES)
      throw badFormat(
        `commit of ${commit.toU8a(true).length} bytes: BoundedVec<u8, ${MAX_COMMIT_BYTES}> does not decode`,
      );

    // CheckMortality: the birth block must be one the node keeps; it is part of what was signed.
    const current = this.head.number;
    const birth = ext.era.isMortalEra ? ext.era.asMortalEra.birth(current) : 0;
    const death = ext.era.isMortalEra ? ext.era.asMortalEra.death(current) : Number.MAX_SAFE_INTEGER;
    const birthBlock = this.blocks[birth];
    // An era that has passed names a later birth than the one signed: the signature check below fails.
    if (!birthBlock || birth > current) throw invalidTx("Transaction has an ancient birth block");

    // The signature over the payload rebuilt by hand (call, extra, then the implicit parts).
    if (parsed.mode !== 0) throw invalidTx("Transaction has a bad signature"); // no metadata hash is known here
    const payload = u8aConcat(
      parsed.call,
      parsed.extra,
      u32le(this.runtime.specVersion),
      u32le(this.runtime.transactionVersion),
      hexToU8a(this.genesisHash),
      hexToU8a(birthBlock.hash),
      new Uint8Array([0]),
    );
    const message = payload.length > 256 ? blake2AsU8a(payload, 256) : payload;
    if (!verifies(message, parsed.signature, parsed.signer)) throw invalidTx("Transaction has a bad signature");

    const next = this.accountNextIndex(encodeAddress(parsed.signer, 42));
    if (parsed.nonce < this.#accountNonce(parsed.signer)) throw invalidTx("Transaction is outdated");
    if (parsed.nonce < next)
      throw new RpcFailure(
        1014,
        "Priority is too low: (0 vs 0)",
        "The transaction has too low priority to replace another transaction already in the pool.",
      );
    // A real pool parks a gap in its future queue; a client that skips nonces is a bug worth seeing.
    if (parsed.nonce > next) throw invalidTx("Transaction will be valid in the future");

    if (!this.#acceptCalls.has(record.call)) throw invalidTx("Transaction call is not expected");
    const injected = this.#injected.shift();
    if (injected !== undefined) throw invalidTx(`Custom error: ${injected}`);
    const tx: PooledTx = {
      hex: u8aToHex(bytes),
      hash: u8aToHex(blake2AsU8a(bytes, 256)),
      who: parsed.signer,
      nonce: parsed.nonce,
      call: record.call,
      args,
      death,
    };
    const refused = this.#validate(tx);
    if (refused !== null) throw invalidTx(`Custom error: ${refused}`);
    return tx;
  }

  /** SubtensorTransactionExtension's rules for a weights call: the custom code it refuses with, or null. */
  #validate(tx: PooledTx): number | null {
    const netuid = argNumber(tx.args, "netuid");
    if (!this.#stakeOk(tx.who, netuid)) return 1; // StakeAmountTooLow
    const round = tx.args.reveal_round;
    if (round !== undefined && BigInt(round.toString()) < this.#big("drand", "lastStoredRound")) return 15; // InvalidRevealRound
    return null;
  }

  // --- blocks ------------------------------------------------------------------------------

  /** Builds the next block: the reveal (on_initialize), the timestamp inherent, then the pool in order. */
  produceBlock(): FakeBlock {
    const parent = this.head;
    const number = parent.number + 1;
    this.#state = new Map(parent.state);
    const events: EventRecordInput[] = [];
    this.#put("system", "number", [], number);
    this.#put("system", "parentHash", [], parent.hash);

    this.#revealTimelocked(number, events);

    const nowMs = this.#genesisMs + number * this.#blockMs;
    this.#put("timestamp", "now", [], nowMs);
    const { registry, decorated } = this.runtime;
    const inherent = registry.createType("Extrinsic", decorated.tx.timestamp?.set?.(nowMs));
    const extrinsics: string[] = [u8aToHex(inherent.toU8a())];
    events.push({ phase: { ApplyExtrinsic: 0 }, event: this.#systemEvent("ExtrinsicSuccess", null, "Mandatory") });

    const pending = this.#pool.splice(0);
    for (const tx of pending) {
      const dropped = this.#inclusionCheck(tx, number);
      if (dropped === "future") {
        this.#pool.push(tx);
        continue;
      }
      if (dropped !== null) {
        this.inclusions.push({ txHash: tx.hash, block: null, error: dropped });
        continue;
      }
      const index = extrinsics.length;
      extrinsics.push(tx.hex);
      const txEvents: Uint8Array[] = [];
      const error = this.#dispatch(tx, number, txEvents);
      this.#put("system", "account", [tx.who], { nonce: tx.nonce + 1 });
      // A failed call's own writes and events are rolled back (a transactional dispatch); the nonce is not.
      for (const event of error === null ? txEvents : []) events.push({ phase: { ApplyExtrinsic: index }, event });
      events.push({
        phase: { ApplyExtrinsic: index },
        event: this.#systemEvent(error === null ? "ExtrinsicSuccess" : "ExtrinsicFailed", error, "Normal"),
      });
      this.inclusions.push({ txHash: tx.hash, block: number, error });
    }

    this.#state.set(this.runtime.key("system", "events"), this.runtime.eventRecords(events));
    this.#put("system", "eventCount", [], events.length);
    return this.#seal(number, hexToU8a(parent.hash), extrinsics);
  }

  /** Builds blocks until the head is `block`. */
  advanceTo(block: number): FakeBlock {
    while (this.head.number < block) this.produceBlock();
    return this.head;
  }

  /** Why a pooled transaction cannot go into block `number`: null if it can, "future" to keep it. */
  #inclusionCheck(tx: PooledTx, number: number): string | null {
    if (number >= tx.death) return "its era ended";
    const nonce = this.#accountNonce(tx.who);
    if (tx.nonce > nonce) return "future";
    if (tx.nonce < nonce) return "its nonce is stale";
    const refused = this.#validate(tx);
    return refused === null ? null : `Custom error: ${refused}`;
  }

  /** Closes the block: header (its hash is blake2-256 of the SCALE header, as clients compute it), state kept. */
  #seal(number: number, parentHash: Uint8Array, extrinsics: string[]): FakeBlock {
    const keys = [...this.#state.keys()].sort();
    const stateRoot = blake2AsU8a(
      u8aConcat(...keys.flatMap((k) => [hexToU8a(k), hexToU8a(this.#state.get(k) as string)])),
      256,
    );
    const extrinsicsRoot = blake2AsU8a(u8aConcat(...extrinsics.map((x) => hexToU8a(x))), 256);
    const header = this.runtime.registry.createType("Header", {
      parentHash,
      number,
      stateRoot,
      extrinsicsRoot,
      digest: { logs: [] },
    });
    const block: FakeBlock = {
      number,
      hash: u8aToHex(blake2AsU8a(header.toU8a(), 256)),
      header: {
        parentHash: u8aToHex(parentHash),
        number: `0x${number.toString(16)}`,
        stateRoot: u8aToHex(stateRoot),
        extrinsicsRoot: u8aToHex(extrinsicsRoot),
        digest: { logs: [] },
      },
      extrinsics,
      state: this.#state,
    };
    this.blocks.push(block);
    return block;
  }

  #systemEvent(name: "ExtrinsicSuccess" | "ExtrinsicFailed", error: string | null, dispatchClass: string): Uint8Array {
    const info = { weight: { refTime: 0, proofSize: 0 }, class: dispatchClass, paysFee: "No" };
    if (name === "ExtrinsicSuccess") return this.runtime.event("system", name, [info]);
    return this.runtime.event("system", name, [this.runtime.moduleError(SM, error ?? ""), info]);
  }

  // --- dispatch ----------------------------------------------------------------------------

  #dispatch(tx: PooledTx, block: number, events: Uint8Array[]): DispatchResult {
    const netuid = argNumber(tx.args, "netuid");
    const mecid = tx.args.mecid === undefined ? 0 : argNumber(tx.args, "mecid");
    switch (tx.call) {
      case "subtensorModule.commitTimelockedWeights":
      case "subtensorModule.commitTimelockedMechanismWeights":
        return this.#commitTimelocked(tx, netuid, mecid, block, events);
      case "subtensorModule.setWeights":
      case "subtensorModule.setMechanismWeights":
        // set_weights is refused while commit-reveal is on (subtensor@v3.4.7-422 macros/dispatches.rs:94,174).
        if (this.#get(SM, "commitRevealWeightsEnabled", netuid).toJSON() === true) return "CommitRevealEnabled";
        return this.#setWeights(tx.who, netuid, mecid, {
          uids: argNumbers(tx.args, "dests"),
          values: argNumbers(tx.args, "weights"),
          versionKey: BigInt(tx.args.version_key?.toString() ?? "0"),
          block,
          events,
        });
      default:
        throw new Error(`the pool took ${tx.call}, which the fake node does not implement`);
    }
  }

  /** internal_commit_timelocked_weights (subtensor@v3.4.7-422 subnets/weights.rs:298-385), check by check. */
  #commitTimelocked(tx: PooledTx, netuid: number, mecid: number, block: number, events: Uint8Array[]): DispatchResult {
    if (!this.#mechanismExists(netuid, mecid)) return "MechanismDoesNotExist";
    const index = netuid + mecid * MECHANISM_STRIDE;
    if (this.#get(SM, "commitRevealWeightsEnabled", netuid).toJSON() !== true) return "CommitRevealDisabled";
    if (argNumber(tx.args, "commit_reveal_version") !== this.#num(SM, "commitRevealWeightsVersion"))
      return "IncorrectCommitRevealVersion";
    const uid = this.#uidOf(netuid, tx.who);
    if (uid === null) return "HotKeyNotRegisteredInSubNet";
    if (!this.#rateLimitOk(netuid, index, uid, block)) return "CommittingWeightsTooFast";
    // The bucket is the including block's epoch, or the next one if the epoch runs in this block.
    const epoch = this.#epochIndex(netuid, block) + (this.#shouldRunEpoch(netuid, block) ? 1 : 0);
    const bucket = this.#bucket(index, epoch);
    if (bucket.filter((c) => u8aEq(c.who, tx.who)).length >= MAX_UNREVEALED) return "TooManyUnrevealedCommits";
    const commit = (tx.args.commit as Codec).toU8a(true);
    const round = BigInt((tx.args.reveal_round as Codec).toString());
    bucket.push({ who: tx.who, block: BigInt(block), commit, round });
    this.#putBucket(index, epoch, bucket);
    events.push(this.runtime.event(SM, "TimelockedWeightsCommitted", [tx.who, index, blake2AsU8a(commit, 256), round]));
    this.#setLastUpdate(index, uid, block);
    return null;
  }

  /** internal_set_weights (subtensor@v3.4.7-422 subnets/weights.rs:751-864): the error's name, or null once written. */
  #setWeights(
    who: Uint8Array,
    netuid: number,
    mecid: number,
    w: { uids: number[]; values: number[]; versionKey: bigint; block: number; events: Uint8Array[] },
  ): DispatchResult {
    const index = netuid + mecid * MECHANISM_STRIDE;
    const { uids, values } = w;
    if (netuid === 0) return "CanNotSetRootNetworkWeights";
    if (uids.length !== values.length) return "WeightVecNotEqualSize";
    if (!this.#mechanismExists(netuid, mecid)) return "MechanismDoesNotExist";
    const n = this.#num(SM, "subnetworkN", netuid);
    if (uids.length > n) return "UidsLengthExceedUidsInSubNet";
    const uid = this.#uidOf(netuid, who);
    if (uid === null) return "HotKeyNotRegisteredInSubNet";
    if (!this.#stakeOk(who, netuid)) return "NotEnoughStakeToSetWeights";
    const subnetKey = this.#big(SM, "weightsVersionKey", netuid);
    if (subnetKey !== 0n && w.versionKey < subnetKey) return "IncorrectWeightVersionKey";
    const commitReveal = this.#get(SM, "commitRevealWeightsEnabled", netuid).toJSON() === true;
    if (!commitReveal && !this.#rateLimitOk(netuid, index, uid, w.block)) return "SettingWeightsTooFast";
    const selfWeight = values.length === 1 && uids[0] === uid;
    const permits = this.#get(SM, "validatorPermit", netuid).toJSON() as boolean[];
    if (!selfWeight && permits[uid] !== true) return "NeuronNoValidatorPermit";
    if (new Set(uids).size !== uids.length) return "DuplicateUids";
    if (uids.some((u) => !this.#has(SM, "keys", netuid, u))) return "UidVecContainInvalidOne";
    const minAllowed = Math.min(n, this.#num(SM, "minAllowedWeights", netuid));
    if (!selfWeight && values.length < minAllowed) return "WeightVecLengthIsLow";
    const upscaled = maxUpscale(values);
    if (!selfWeight && !maxWeightLimited(upscaled, this.#num(SM, "maxWeightsLimit", netuid)))
      return "MaxWeightExceeded";
    this.#put(
      SM,
      "weights",
      [index, uid],
      uids.map((u, i) => [u, upscaled[i]]),
    );
    if (!commitReveal) this.#setLastUpdate(index, uid, w.block);
    w.events.push(this.runtime.event(SM, "WeightsSet", [index, uid]));
    return null;
  }

  // --- the reveal --------------------------------------------------------------------------

  /**
   * reveal_crv3_commits_for_subnet for every subnet but root (subtensor@v3.4.7-422
   * coinbase/reveal_commits.rs:39-203): buckets older than cur_epoch − P are deleted; bucket
   * cur_epoch − P is decrypted with the stored pulses and applied, its commits without a pulse
   * kept for the next block; every failure is only recorded (the chain logs a trace).
   */
  #revealTimelocked(block: number, events: EventRecordInput[]): void {
    for (const netuid of this.#netuids) {
      if (netuid === 0) continue;
      const period = this.#num(SM, "revealPeriodEpochs", netuid);
      const epoch = this.#epochIndex(netuid, block);
      const revealEpoch = Math.max(0, epoch - period);
      for (let mecid = 0; mecid < this.#num(SM, "mechanismCountCurrent", netuid); mecid++) {
        const index = netuid + mecid * MECHANISM_STRIDE;
        for (const key of this.keysPaged(this.#state, this.runtime.prefix(SM, "timelockedWeightCommits", index), 1e9)) {
          const bucketEpoch = Number(new DataView(hexToU8a(key).slice(-8).buffer).getBigUint64(0, true));
          if (bucketEpoch >= revealEpoch) continue;
          for (const c of this.#bucket(index, bucketEpoch)) this.#recordReveal(block, index, c, "expired");
          this.#state.delete(key);
        }
        // As the chain does: the whole subnet waits until its first reveal epoch.
        if (epoch < period) break;
        const entries = this.#bucket(index, revealEpoch);
        this.#state.delete(this.runtime.key(SM, "timelockedWeightCommits", index, revealEpoch));
        const unrevealed: Commit[] = [];
        for (const c of entries) {
          const pulse = this.#get("drand", "pulses", c.round) as unknown as OptionPulse;
          if (pulse.isNone) {
            unrevealed.push(c);
            this.#recordReveal(block, index, c, "kept");
            continue;
          }
          const outcome = this.#decrypt(c, pulse.unwrap().signature.toU8a(true));
          if (!outcome.ok) {
            this.#recordReveal(block, index, c, outcome.reason);
            continue;
          }
          const revealEvents: Uint8Array[] = [];
          const error = this.#setWeights(c.who, netuid, mecid, { ...outcome.payload, block, events: revealEvents });
          if (error !== null) {
            this.#recordReveal(block, index, c, error);
            continue;
          }
          revealEvents.push(this.runtime.event(SM, "TimelockedWeightsRevealed", [index, c.who]));
          for (const event of revealEvents) events.push({ phase: "Initialization", event });
          this.#recordReveal(block, index, c, "revealed");
        }
        if (unrevealed.length > 0) this.#putBucket(index, revealEpoch, unrevealed);
      }
    }
  }

  #decrypt(
    c: Commit,
    storedSignature: Uint8Array,
  ): { ok: true; payload: { uids: number[]; values: number[]; versionKey: bigint } } | { ok: false; reason: string } {
    // pallet_drand may store the signature as text with a 0x prefix; the chain strips it (reveal_commits.rs:101-104).
    const hasPrefix = storedSignature[0] === 0x30 && storedSignature[1] === 0x78;
    const signature = hasPrefix ? storedSignature.subarray(2) : storedSignature;
    try {
      const outcome = revealAsChain(c.commit, signature, c.who);
      if (!outcome.ok) return outcome;
      const { uids, values, versionKey } = outcome.payload;
      return { ok: true, payload: { uids, values, versionKey } };
    } catch {
      return { ok: false, reason: "SignatureUndecodable" };
    }
  }

  #recordReveal(block: number, netuidIndex: number, c: Commit, outcome: string): void {
    this.reveals.push({
      block,
      netuidIndex,
      hotkey: encodeAddress(c.who, 42),
      revealRound: Number(c.round),
      outcome,
    });
  }

  // --- subtensor helpers -------------------------------------------------------------------

  #bucket(index: number, epoch: number): Commit[] {
    const stored = this.#get(SM, "timelockedWeightCommits", index, epoch).toJSON() as [
      string,
      number,
      string,
      number,
    ][];
    return stored.map(([who, block, commit, round]) => ({
      who: decodeAddress(who),
      block: BigInt(block),
      commit: hexToU8a(commit),
      round: BigInt(round),
    }));
  }

  #putBucket(index: number, epoch: number, commits: readonly Commit[]): void {
    this.#put(
      SM,
      "timelockedWeightCommits",
      [index, epoch],
      // Bytes as hex: a Uint8Array would be read as already length-prefixed.
      commits.map((c) => [c.who, c.block, u8aToHex(c.commit), c.round]),
    );
  }

  /** ensure_mechanism_exists (subtensor@v3.4.7-422 subnets/mechanism.rs:83-96). */
  #mechanismExists(netuid: number, mecid: number): boolean {
    return (
      this.#get(SM, "networksAdded", netuid).toJSON() === true && mecid < this.#num(SM, "mechanismCountCurrent", netuid)
    );
  }

  #uidOf(netuid: number, who: Uint8Array): number | null {
    const uid = this.#get(SM, "uids", netuid, who) as unknown as { isSome: boolean; unwrap(): Codec };
    return uid.isSome ? Number(uid.unwrap().toString()) : null;
  }

  /** check_weights_min_stake without child keys: the owner's hotkey passes; else alpha + TaoWeight·root ≥ StakeThreshold. */
  #stakeOk(who: Uint8Array, netuid: number): boolean {
    if (this.#has(SM, "subnetOwnerHotkey", netuid)) {
      const owner = decodeAddress(this.#get(SM, "subnetOwnerHotkey", netuid).toString());
      const ownerUid = this.#uidOf(netuid, owner);
      if (ownerUid !== null && ownerUid === this.#uidOf(netuid, who)) return true;
    }
    const alpha = this.#big(SM, "totalHotkeyAlpha", who, netuid);
    const root = this.#big(SM, "totalHotkeyAlpha", who, 0);
    // TaoWeight is a fraction of u64::MAX: compare alpha + root·w/MAX ≥ threshold without rounding.
    return alpha * U64_MAX + root * this.#big(SM, "taoWeight") >= this.#big(SM, "stakeThreshold") * U64_MAX;
  }

  /** check_rate_limit (subtensor@v3.4.7-422 subnets/weights.rs:1107-1127). */
  #rateLimitOk(netuid: number, index: number, uid: number, block: number): boolean {
    if (!this.#has(SM, "keys", netuid, uid)) return false;
    const last = (this.#get(SM, "lastUpdate", index).toJSON() as number[])[uid] ?? 0;
    return last === 0 || block - last >= this.#num(SM, "weightsSetRateLimit", netuid);
  }

  #setLastUpdate(index: number, uid: number, block: number): void {
    const updates = this.#get(SM, "lastUpdate", index).toJSON() as number[];
    if (uid >= updates.length) return;
    updates[uid] = block;
    this.#put(SM, "lastUpdate", [index], updates);
  }

  /** get_epoch_index: floor((block + netuid + 1) / (tempo + 1)) (subtensor@v3.4.7-422 subnets/weights.rs:1262-1269). */
  #epochIndex(netuid: number, block: number): number {
    return Math.floor((block + netuid + 1) / (this.#num(SM, "tempo", netuid) + 1));
  }

  /** should_run_epoch: the epoch runs in the block before an epoch index boundary (coinbase/run_coinbase.rs:1030-1054). */
  #shouldRunEpoch(netuid: number, block: number): boolean {
    const tempo = this.#num(SM, "tempo", netuid);
    return tempo !== 0 && tempo - ((block + netuid + 1) % (tempo + 1)) === 0;
  }

  /** The first block of the epoch after the head's, on the modulo rule. */
  nextEpochStart(netuid: number): number {
    const tempo = this.#num(SM, "tempo", netuid);
    return (this.#epochIndex(netuid, this.head.number) + 1) * (tempo + 1) - (netuid + 1);
  }
}

interface Commit {
  readonly who: Uint8Array;
  readonly block: bigint;
  readonly commit: Uint8Array;
  readonly round: bigint;
}

interface OptionPulse {
  readonly isNone: boolean;
  unwrap(): { readonly signature: Codec };
}

/** The parts of a signed v4 extrinsic, read by hand: `len ‖ 0x84 ‖ 0x00 ‖ pubkey ‖ 0x01 ‖ sig ‖ extra ‖ call`. */
function parseSignedV4(bytes: Uint8Array): {
  signer: Uint8Array;
  signature: Uint8Array;
  era: Uint8Array;
  nonce: number;
  mode: number;
  extra: Uint8Array;
  call: Uint8Array;
} {
  const [offset, length] = compactFromU8a(bytes);
  const body = bytes.subarray(offset);
  if (body.length !== length.toNumber()) throw badFormat("the length prefix does not match");
  if (body[0] !== 0x84)
    throw badFormat(`version byte 0x${(body[0] ?? 0).toString(16)}: only signed v4 (0x84) is taken`);
  if (body[1] !== 0x00) throw badFormat("the signer is not a MultiAddress::Id");
  if (body[34] !== 0x01) throw badFormat("the signature is not sr25519");
  const signer = body.slice(2, 34);
  const signature = body.slice(35, 99);
  let at = 99;
  const eraLength = body[at] === 0 ? 1 : 2;
  const era = body.slice(at, at + eraLength);
  at += eraLength;
  const [nonceLength, nonce] = compactFromU8a(body.subarray(at));
  at += nonceLength;
  const [tipLength] = compactFromU8a(body.subarray(at));
  at += tipLength;
  const mode = body[at] ?? 0;
  at += 1;
  return { signer, signature, era, nonce: nonce.toNumber(), mode, extra: body.slice(99, at), call: body.slice(at) };
}

/**
 * vec_u16_max_upscale_to_u16 in the chain's I32F32 (subtensor@v3.4.7-422 epoch/math.rs:78-129):
 * above 32768 each value is multiplied by the truncated quotient 65535 / max, else divided by max
 * after the multiplication; both rounded half up.
 */
export function maxUpscale(values: readonly number[]): number[] {
  const max = values.reduce((m, v) => Math.max(m, v), 0);
  if (max === 0) return values.map(() => 0);
  const half = 1n << 31n;
  const m = BigInt(max);
  if (max > 32768) {
    const quotient = (65535n << 32n) / m; // I32F32 raw of 65535 / max
    return values.map((v) => Number(min16((BigInt(v) * quotient + half) >> 32n)));
  }
  return values.map((v) => Number(min16((((BigInt(v) * 65535n) << 32n) / m + half) >> 32n)));
}

/** check_vec_max_limited (epoch/math.rs:131-142): the normalised largest value is at most limit / 65535. */
function maxWeightLimited(upscaled: readonly number[], limit: number): boolean {
  if (limit === 0xffff) return true;
  const sum = upscaled.reduce((s, v) => s + BigInt(v), 0n);
  if (sum === 0n) return true;
  const limitRaw = (BigInt(limit) << 32n) / 65535n;
  return upscaled.every((v) => (BigInt(v) << 32n) / sum <= limitRaw);
}

/** sr25519 verification, false for bytes that are no signature at all (@scure throws on those). */
function verifies(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return sr25519Verify(message, signature, publicKey);
  } catch {
    return false;
  }
}

function min16(x: bigint): bigint {
  return x > 65535n ? 65535n : x;
}

function u32le(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

function big(x: Amount): bigint {
  return BigInt(x);
}

function argNumber(args: Readonly<Record<string, Codec>>, name: string): number {
  const arg = args[name];
  if (!arg) throw new Error(`the call has no argument ${name}`);
  return Number(arg.toString());
}

function argNumbers(args: Readonly<Record<string, Codec>>, name: string): number[] {
  return (args[name]?.toJSON() as number[] | undefined) ?? [];
}
