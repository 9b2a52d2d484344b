/**
 * The chain client on @polkadot/api: JSON-RPC over HTTP (fetch, so it runs in workerd) or a
 * WebSocket. `initWasm: false` is mandatory in workerd, where wasm cannot be compiled (without
 * it ApiPromise never becomes ready). Block times come from each block's `timestamp.set`
 * inherent, which is exact on mainnet and immune to the local chain's time travel.
 *
 * Transactions are signed here with an explicit nonce and a mortal era and handed to the pool
 * with `author_submitExtrinsic`: over HTTP there is no watching them, so `findExtrinsic` later
 * reads the blocks. A node that cannot be reached is CHAIN_UNAVAILABLE; a refusal by the chain
 * is mapped in chain-errors.ts.
 */
import { ApiPromise, HttpProvider, WsProvider } from "@polkadot/api";
import type { ApiDecoration, SubmittableExtrinsic } from "@polkadot/api/types";
import type { DispatchError, EventRecord, SignedBlock } from "@polkadot/types/interfaces";
import type { Codec, Registry, Signer } from "@polkadot/types/types";
import { isHex, u8aConcat, u8aToHex } from "@polkadot/util";
import { blake2AsU8a } from "@polkadot/util-crypto";
import { EdgeError } from "../../schema/errors.ts";
import type { HotkeySigner } from "../../schema/keys/hotkey-signer.ts";
import { MAX_COMMIT_BYTES } from "../../schema/weights/timelock-commit.ts";
import { type EpochSource, netuidIndex } from "../weights/epoch-schedule.ts";
import {
  type BlockRef,
  type ChainClient,
  type Commitment,
  DEFAULT_CHAIN_CALL_TIMEOUT_MS,
  type ExtrinsicOutcome,
  type ExtrinsicSearch,
  type Metagraph,
  type NeuronInfo,
  type RevealCall,
  type SubmittedTx,
  type TimelockedCommit,
  type TimelockedCommitCall,
  type TimelockedRevealQuery,
  type TimelockedRevealSearch,
  type TimelockState,
  type WeightsCall,
  type WeightsState,
} from "./chain-client.ts";
import { chainRefusal, chainTimedOut, chainUnavailable, handedOver, isPoolRejection } from "./chain-errors.ts";
import { commitmentField } from "./commitment-data.ts";
import { selectiveNeurons } from "./selective-metagraph.ts";

/**
 * Blocks a transaction stays valid for: 64 × 12 s ≈ 13 min on mainnet, a few cron ticks. Below
 * 4096 an era's birth is exactly the block it names, so the signed checkpoint is that block.
 */
const ERA_PERIOD = 64;
/** Finality lag beyond which the era is taken from the best block instead (@polkadot/api's MAX_FINALITY_LAG). */
const MAX_FINALITY_LAG = 16;
/** Blocks fetched at once while searching for an extrinsic. */
const SEARCH_BATCH = 8;

/** Connects lazily; one ApiPromise per client, dropped after a call that timed out. */
export class PolkadotChainClient implements ChainClient {
  readonly #url: string;
  readonly #timeoutMs: number;
  #api: Promise<ApiPromise> | undefined;
  /** The provider of #api, closed with it (an API still connecting has nothing to disconnect). */
  #provider: WsProvider | HttpProvider | undefined;

  /** `timeoutMs`: the deadline of each call, connecting included. */
  constructor(url: string, timeoutMs = DEFAULT_CHAIN_CALL_TIMEOUT_MS) {
    this.#url = url;
    this.#timeoutMs = timeoutMs;
  }

  /** The connected API (metadata fetched once per client; a failed connection is retried next call). */
  api(): Promise<ApiPromise> {
    if (!this.#api) {
      const provider = /^wss?:/.test(this.#url) ? new WsProvider(this.#url) : new HttpProvider(this.#url);
      const api = ApiPromise.create({ provider, initWasm: false, noInitWarn: true, throwOnConnect: true });
      this.#api = api;
      this.#provider = provider;
      api.catch(() => {
        if (this.#api === api) this.#api = undefined;
        provider.disconnect().catch(() => {});
      });
    }
    return this.#api;
  }

  head(): Promise<BlockRef> {
    return this.#call("the head", async (api) => {
      const hash = await api.rpc.chain.getBlockHash();
      return blockRef(await api.rpc.chain.getBlock(hash));
    });
  }

  block(n: number): Promise<BlockRef | null> {
    return this.#call(`block ${n}`, async (api) => {
      const signed = await retainedBlock(api, n);
      return signed && blockRef(signed);
    });
  }

  metagraph(netuid: number): Promise<Metagraph> {
    return this.#call(`the metagraph of netuid ${netuid}`, async (api) => {
      const head = await this.head();
      const at = await api.at(head.hash);
      // One runtime call where the runtime has it; storage reads otherwise (spec 218).
      const selected = await selectiveNeurons(at, netuid);
      if (selected) return { block: head, neurons: selected };
      const sm = at.query.subtensorModule;
      const keys = await sm.keys.entries(netuid);
      const entries = keys
        .map(([key, hotkey]) => ({ uid: toNumber(key.args[1]), hotkey: hotkey.toString() }))
        .sort((a, b) => a.uid - b.uid);
      const hotkeys = entries.map((e) => e.hotkey);
      const [permits, owners, stakes, registered] = await Promise.all([
        sm.validatorPermit(netuid),
        sm.owner.multi(hotkeys),
        sm.totalHotkeyAlpha.multi(hotkeys.map((h) => [h, netuid])),
        sm.blockAtRegistration.multi(entries.map((e) => [netuid, e.uid])),
      ]);
      const permitList = permits.toJSON() as boolean[];
      const neurons: NeuronInfo[] = entries.map((e, i) => ({
        uid: e.uid,
        hotkey: api.createType("AccountId32", e.hotkey).toString(),
        coldkey: String(owners[i]),
        stakeRao: BigInt(String(stakes[i])),
        validatorPermit: permitList[e.uid] === true,
        registrationBlock: Number(String(registered[i])),
      }));
      return { block: head, neurons };
    });
  }

  commitments(netuid: number): Promise<readonly Commitment[]> {
    return this.#call(`the commitments of netuid ${netuid}`, async (api) => {
      const head = await this.head();
      const entries = await (await api.at(head.hash)).query.commitments.commitmentOf.entries(netuid);
      const out: Commitment[] = [];
      for (const [key, value] of entries) {
        const registration = unwrapOption(value) as unknown as Registration | null;
        if (!registration) continue;
        const fields = registration.info.fields.map(commitmentField);
        out.push({
          hotkey: api.createType("AccountId32", key.args[1]).toString(),
          block: toNumber(registration.block),
          text: fields[0]?.text ?? "",
          fields,
        });
      }
      return out.sort((a, b) => (a.hotkey < b.hotkey ? -1 : a.hotkey > b.hotkey ? 1 : 0));
    });
  }

  weights(netuid: number, uid: number, mecid = 0): Promise<readonly (readonly [number, number])[]> {
    return this.#call(`the weights of uid ${uid} on netuid ${netuid}`, async (api) => {
      // Keyed by the mechanism's storage index, which is the netuid for mechanism 0 (and on spec 218).
      const stored = await api.query.subtensorModule.weights(netuidIndex(netuid, mecid), uid);
      return (stored.toJSON() as [number, number][]).map(([dest, value]) => [dest, value] as const);
    });
  }

  weightsState(netuid: number, hotkey: string, mecid = 0): Promise<WeightsState> {
    return this.#call(`the weights state of netuid ${netuid}`, async (api) => {
      const head = await this.head();
      const sm = (await api.at(head.hash)).query.subtensorModule;
      // Spec 218 calls the stake needed to set weights WeightsMinStake; HEAD calls it StakeThreshold.
      const minStake = sm.weightsMinStake ?? sm.stakeThreshold;
      // Items a runtime may lack read as null (spec 218 has no SubnetEpochIndex, perhaps no TaoWeight).
      const optional = <T>(read: (() => Promise<T>) | undefined) => (read ? read() : Promise.resolve(null));
      const [enabled, rateLimit, lastUpdate, versionKey, uid, stake, min] = await Promise.all([
        sm.commitRevealWeightsEnabled(netuid),
        sm.weightsSetRateLimit(netuid),
        // Keyed by the mechanism's storage index: each mechanism has its own rate limit clock.
        sm.lastUpdate(netuidIndex(netuid, mecid)),
        sm.weightsVersionKey(netuid),
        sm.uids(netuid, hotkey),
        sm.totalHotkeyAlpha(hotkey, netuid),
        minStake ? minStake() : Promise.resolve(null),
      ]);
      const [root, taoWeight, owner, parents, commits, epochIndex] = await Promise.all([
        sm.totalHotkeyAlpha(hotkey, 0),
        // A plain value on finney; a map by netuid on spec 218.
        optional(
          sm.taoWeight && (() => (sm.taoWeight.creator.meta.type.isMap ? sm.taoWeight(netuid) : sm.taoWeight())),
        ),
        optional(sm.subnetOwnerHotkey && (() => sm.subnetOwnerHotkey(netuid))),
        optional(sm.parentKeys && (() => sm.parentKeys(hotkey, netuid))),
        optional(sm.weightCommits && (() => sm.weightCommits(netuid, hotkey))),
        optional(sm.subnetEpochIndex && (() => sm.subnetEpochIndex(netuid))),
      ]);
      const uidValue = unwrapOption(uid);
      const uidNumber = uidValue === null ? null : toNumber(uidValue);
      const updates = lastUpdate.toJSON() as number[];
      const stateful = epochIndex !== null;
      const stored = commits === null ? null : unwrapOption(commits);
      const tuples = (stored === null ? [] : (stored.toJSON() as [string, number, number, number][])) ?? [];
      const ownerHotkey = owner === null ? null : api.createType("AccountId32", owner).toString();
      return {
        block: head,
        uid: uidNumber,
        commitRevealEnabled: enabled.toJSON() === true,
        rateLimitBlocks: toNumber(rateLimit),
        lastUpdateBlock: uidNumber === null ? null : (updates[uidNumber] ?? 0),
        versionKey: BigInt(versionKey.toString()),
        minStakeRao: min === null ? 0n : BigInt(min.toString()),
        stakeRao: BigInt(stake.toString()),
        rootStakeRao: BigInt(root.toString()),
        taoWeight: taoWeight === null ? 0n : BigInt(taoWeight.toString()),
        // An unset owner is the all-zero account: no hotkey signs as it.
        subnetOwnerHotkey: ownerHotkey === null || /^0x0*$/.test(u8aToHex(owner?.toU8a())) ? null : ownerHotkey,
        hasParentKeys: parents !== null && (parents.toJSON() as unknown[]).length > 0,
        // ≤ 422: (hash, commit block, first reveal block, last reveal block); ≥ 423: (hash, commit epoch, commit block, 0).
        hashCommits: tuples.map(([hash, second, third]) =>
          stateful
            ? { hash, commitBlock: Number(third), commitEpoch: Number(second) }
            : { hash, commitBlock: Number(second), commitEpoch: null },
        ),
        subnetEpochIndex: epochIndex === null ? null : toNumber(epochIndex),
      };
    });
  }

  submitSetWeights(signer: HotkeySigner, call: WeightsCall): Promise<SubmittedTx> {
    return this.#submit(signer, (api) =>
      api.tx.subtensorModule.setWeights(call.netuid, [...call.uids], [...call.values], call.versionKey),
    );
  }

  submitCommitWeights(signer: HotkeySigner, netuid: number, commitHash: string): Promise<SubmittedTx> {
    return this.#submit(signer, (api) => api.tx.subtensorModule.commitWeights(netuid, commitHash));
  }

  submitRevealWeights(signer: HotkeySigner, call: RevealCall): Promise<SubmittedTx> {
    return this.#submit(signer, (api) =>
      api.tx.subtensorModule.revealWeights(
        call.netuid,
        [...call.uids],
        [...call.values],
        [...call.salt],
        call.versionKey,
      ),
    );
  }

  timelockState(netuid: number, mecid?: number): Promise<TimelockState> {
    return this.#call(`the timelock state of netuid ${netuid}`, async (api) => {
      const head = await this.head();
      const at = await api.at(head.hash);
      const sm = at.query.subtensorModule;
      const drand = at.query.drand;
      const calls = api.tx.subtensorModule;
      const call = mecid === undefined ? calls.commitTimelockedWeights : calls.commitTimelockedMechanismWeights;
      // Each item may be absent from a runtime (spec 218): read what exists, default or null the rest.
      const [enabled, version, period, tempo, lastStored, mechanisms, epochs] = await Promise.all([
        sm.commitRevealWeightsEnabled(netuid),
        sm.commitRevealWeightsVersion ? sm.commitRevealWeightsVersion() : null,
        sm.revealPeriodEpochs ? sm.revealPeriodEpochs(netuid) : null,
        sm.tempo(netuid),
        drand?.lastStoredRound ? drand.lastStoredRound() : null,
        sm.mechanismCountCurrent ? sm.mechanismCountCurrent(netuid) : null,
        epochSource(at, netuid),
      ]);
      return {
        block: head,
        netuidIndex: netuidIndex(netuid, mecid ?? 0),
        commitRevealEnabled: enabled.toJSON() === true,
        timelockedCallAvailable: call !== undefined,
        commitRevealVersion: version === null ? null : toNumber(version),
        revealPeriodEpochs: period === null ? 1 : toNumber(period),
        tempo: toNumber(tempo),
        lastStoredRound: lastStored === null ? null : toNumber(lastStored),
        mechanismCount: mechanisms === null ? 1 : toNumber(mechanisms),
        epochs,
      };
    });
  }

  async submitTimelockedCommit(signer: HotkeySigner, call: TimelockedCommitCall): Promise<SubmittedTx> {
    if (!isHex(call.commitHex) || call.commitHex.length < 4)
      throw new TypeError("commitHex must be the commit's bytes as 0x-hex");
    const bytes = (call.commitHex.length - 2) / 2;
    if (bytes > MAX_COMMIT_BYTES)
      throw new EdgeError(
        "WEIGHTS_COMMIT_TOO_LARGE",
        `the timelocked commit is ${bytes} bytes; the chain takes at most ${MAX_COMMIT_BYTES}`,
        { bytes, limit: MAX_COMMIT_BYTES },
      );
    return this.#submit(signer, (api) => {
      const sm = api.tx.subtensorModule;
      const { netuid, mecid, commitHex, revealRound, commitRevealVersion } = call;
      if (mecid === undefined) {
        if (!sm.commitTimelockedWeights)
          throw new Error("the runtime has no SubtensorModule.commit_timelocked_weights");
        return sm.commitTimelockedWeights(netuid, commitHex, revealRound, commitRevealVersion);
      }
      if (!sm.commitTimelockedMechanismWeights)
        throw new Error("the runtime has no SubtensorModule.commit_timelocked_mechanism_weights");
      return sm.commitTimelockedMechanismWeights(netuid, mecid, commitHex, revealRound, commitRevealVersion);
    });
  }

  timelockedCommits(netuid: number, mecid = 0): Promise<readonly TimelockedCommit[]> {
    return this.#call(`the timelocked commits of netuid ${netuid}`, async (api) => {
      const head = await this.head();
      const stored = (await api.at(head.hash)).query.subtensorModule.timelockedWeightCommits;
      if (!stored) return [];
      const out: TimelockedCommit[] = [];
      for (const [key, value] of await stored.entries(netuidIndex(netuid, mecid))) {
        const epoch = toNumber(key.args[1]);
        for (const [who, block, commit, round] of value as unknown as Iterable<readonly [Codec, Codec, Codec, Codec]>) {
          out.push({
            epoch,
            hotkey: api.createType("AccountId32", who).toString(),
            block: toNumber(block),
            // blake2-256 of the raw bytes, as the event hashes them (BlakeTwo256::hash(&commit)).
            commitHash: u8aToHex(blake2AsU8a(commit.toU8a(true), 256)),
            revealRound: toNumber(round),
          });
        }
      }
      return out.sort((a, b) => a.epoch - b.epoch || a.block - b.block);
    });
  }

  findTimelockedReveal(
    query: TimelockedRevealQuery,
    fromBlock: number,
    maxBlocks: number,
  ): Promise<TimelockedRevealSearch> {
    const index = netuidIndex(query.netuid, query.mecid ?? 0);
    return this.#call(`the reveal of ${query.hotkey} on netuid ${query.netuid}`, async (api) => {
      const hotkey = u8aToHex(api.createType("AccountId32", query.hotkey).toU8a());
      const head = (await api.rpc.chain.getHeader()).number.toNumber();
      const last = Math.min(head, fromBlock + maxBlocks - 1);
      for (let start = fromBlock; start <= last; start += SEARCH_BATCH) {
        const numbers = Array.from({ length: Math.min(SEARCH_BATCH, last - start + 1) }, (_, i) => start + i);
        const blocks = await Promise.all(numbers.map((n) => retainedBlock(api, n)));
        for (const signed of blocks) {
          if (!signed) continue;
          const block = blockRef(signed);
          const events = (await (await api.at(block.hash)).query.system.events()) as unknown as EventRecord[];
          const revealed = events.some(
            ({ event }) =>
              event.section === "subtensorModule" &&
              event.method === "TimelockedWeightsRevealed" &&
              toNumber(event.data[0]) === index &&
              u8aToHex(event.data[1]?.toU8a()) === hotkey,
          );
          if (revealed) return { revealedAt: block, searchedTo: block.number };
        }
      }
      return { revealedAt: null, searchedTo: Math.max(last, fromBlock - 1) };
    });
  }

  findExtrinsic(txHash: string, fromBlock: number, maxBlocks: number): Promise<ExtrinsicSearch> {
    return this.#call(`transaction ${txHash}`, async (api) => {
      const head = (await api.rpc.chain.getHeader()).number.toNumber();
      const last = Math.min(head, fromBlock + maxBlocks - 1);
      const wanted = txHash.toLowerCase();
      for (let start = fromBlock; start <= last; start += SEARCH_BATCH) {
        const numbers = Array.from({ length: Math.min(SEARCH_BATCH, last - start + 1) }, (_, i) => start + i);
        const blocks = await Promise.all(numbers.map((n) => retainedBlock(api, n)));
        for (const signed of blocks) {
          if (!signed) continue; // cannot happen below the head, unless the chain reorganised meanwhile
          const index = signed.block.extrinsics.findIndex((x) => x.hash.toHex() === wanted);
          if (index >= 0) return { outcome: await outcomeAt(api, signed, index), searchedTo: last };
        }
      }
      return { outcome: null, searchedTo: Math.max(last, fromBlock - 1) };
    });
  }

  /** Closes the connection (WebSocket providers). */
  async disconnect(): Promise<void> {
    const api = this.#api;
    this.#api = undefined;
    this.#provider = undefined;
    if (api) await (await api.catch(() => null))?.disconnect();
  }

  /** Runs a read with the API; anything but an EdgeError means the node could not answer: CHAIN_UNAVAILABLE. */
  async #call<T>(what: string, read: (api: ApiPromise) => Promise<T>): Promise<T> {
    try {
      return await this.#deadline(what, async () => read(await this.api()));
    } catch (e) {
      if (e instanceof EdgeError) throw e;
      throw chainUnavailable(what, e);
    }
  }

  /**
   * `work`, or CHAIN_UNAVAILABLE once it has taken the deadline. A node that stops answering
   * leaves requests (and a WebSocket) hanging for ever, so the API is dropped with them: the next
   * call connects afresh.
   */
  async #deadline<T>(what: string, work: () => Promise<T>): Promise<T> {
    const api = this.#api;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(chainTimedOut(what, this.#timeoutMs)), this.#timeoutMs);
    });
    try {
      return await Promise.race([work(), expired]);
    } catch (e) {
      if (e instanceof EdgeError && e.details?.timeout_ms !== undefined) this.#drop(api ?? this.#api);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Forgets `api` (if it is still the current one) and closes its connection, even one still opening. */
  #drop(api: Promise<ApiPromise> | undefined): void {
    if (!api || this.#api !== api) return;
    const provider = this.#provider;
    this.#api = undefined;
    this.#provider = undefined;
    provider?.disconnect().catch(() => {});
    api.then((a) => a.disconnect()).catch(() => {});
  }

  /**
   * Signs `build(api)` with the hotkey (its next nonce, a mortal era from the finalised head, so
   * a reorganised best block cannot invalidate it) and hands it to the pool. The pool's refusal
   * is the mapped EdgeError; a node that does not answer is CHAIN_UNAVAILABLE.
   */
  async #submit(
    signer: HotkeySigner,
    build: (api: ApiPromise) => SubmittableExtrinsic<"promise">,
  ): Promise<SubmittedTx> {
    const sent: { tx?: SubmittedTx } = {};
    try {
      return await this.#deadline("the node", () => this.#signAndSend(signer, build, sent));
    } catch (e) {
      // Silent after the transaction was handed over: it may be in the pool. Say which, so the
      // caller looks for it in the blocks instead of sending it again.
      if (sent.tx && e instanceof EdgeError && e.code === "CHAIN_UNAVAILABLE") throw handedOver(e, sent.tx);
      throw e;
    }
  }

  async #signAndSend(
    signer: HotkeySigner,
    build: (api: ApiPromise) => SubmittableExtrinsic<"promise">,
    sent: { tx?: SubmittedTx },
  ): Promise<SubmittedTx> {
    let api: ApiPromise;
    try {
      api = await this.api();
    } catch (e) {
      throw chainUnavailable("the node", e);
    }
    // Outside the try below: a call that does not encode (a value above u16) is the caller's bug.
    const tx = build(api);
    try {
      const [best, finalizedHash, nonce] = await Promise.all([
        api.rpc.chain.getHeader(),
        api.rpc.chain.getFinalizedHead(),
        api.rpc.system.accountNextIndex(signer.address),
      ]);
      const finalized = await api.rpc.chain.getHeader(finalizedHash);
      // As @polkadot/api does: the finalised block, unless finality has stalled (its era would be spent).
      const lag = best.number.toNumber() - finalized.number.toNumber();
      const checkpoint = lag > MAX_FINALITY_LAG ? best : finalized;
      const era = api.createType("ExtrinsicEra", { current: checkpoint.number, period: ERA_PERIOD });
      await tx.signAsync(signer.address, {
        nonce,
        era,
        blockHash: checkpoint.hash,
        signer: polkadotSigner(api.registry, signer),
      });
      const submitted: SubmittedTx = {
        txHash: tx.hash.toHex(),
        nonce: nonce.toNumber(),
        atBlock: best.number.toNumber(),
        validUntilBlock: era.asMortalEra.death(checkpoint.number.toNumber()) - 1,
      };
      sent.tx = submitted;
      await api.rpc.author.submitExtrinsic(tx);
      return submitted;
    } catch (e) {
      if (e instanceof EdgeError) throw e;
      // The error itself, not its message: an RpcError carries the pool's custom code in `data` too.
      if (isPoolRejection(e)) throw chainRefusal(e, api.runtimeVersion.specVersion.toNumber());
      throw chainUnavailable("the node", e);
    }
  }
}

/**
 * A polkadot Signer over the hotkey: signs the extrinsic payload as Keyring pairs do (its SCALE
 * bytes, blake2-256 hashed when longer than 256 bytes), returned as a MultiSignature (0x01 = sr25519).
 */
function polkadotSigner(registry: Registry, hotkey: HotkeySigner): Signer {
  let id = 0;
  return {
    signPayload: async (payload) => {
      if (payload.address !== hotkey.address) throw new Error("asked to sign for another account");
      const bytes = registry
        .createType("ExtrinsicPayload", payload, { version: payload.version })
        .toU8a({ method: true });
      const message = bytes.length > 256 ? blake2AsU8a(bytes, 256) : bytes;
      id += 1;
      return { id, signature: u8aToHex(u8aConcat(new Uint8Array([1]), hotkey.sign(message))) };
    },
  };
}

/**
 * Where the next epoch's start comes from, by what the runtime offers (docs/PROTOCOL.md §8.1):
 * the runtime API `SubnetInfoRuntimeApi.get_next_epoch_start_block` (spec ≥ 423), else the
 * stateful storage LastEpochBlock / PendingEpochAt, else the ≤ 422 modulo rule.
 */
async function epochSource(at: ApiDecoration<"promise">, netuid: number): Promise<EpochSource> {
  const runtimeApi = (at.call as Record<string, Record<string, unknown> | undefined>).subnetInfoRuntimeApi
    ?.getNextEpochStartBlock as ((netuid: number) => Promise<Codec>) | undefined;
  if (runtimeApi) {
    const next = unwrapOption(await runtimeApi(netuid));
    // None: no such subnet, or tempo 0, which never runs an epoch
    // (subtensor pallets/subtensor/src/coinbase/run_coinbase.rs:1124-1138).
    if (next === null)
      throw new EdgeError("MECHANISM_NOT_FOUND", `the runtime has no next epoch for netuid ${netuid}`, { netuid });
    return { kind: "runtime-api", nextEpochStartBlock: toNumber(next) };
  }
  const sm = at.query.subtensorModule;
  if (sm.lastEpochBlock && sm.pendingEpochAt) {
    const [last, pending] = await Promise.all([sm.lastEpochBlock(netuid), sm.pendingEpochAt(netuid)]);
    return { kind: "storage", lastEpochBlock: toNumber(last), pendingEpochAt: toNumber(pending) };
  }
  return { kind: "modulo" };
}

/** Block n, or null if the chain has not produced it; throws if the node no longer keeps it. */
async function retainedBlock(api: ApiPromise, n: number): Promise<SignedBlock | null> {
  const hash = await api.rpc.chain.getBlockHash(n);
  if (hash.isEmpty) return null;
  const block = await api.rpc.chain.getBlock(hash);
  // A node that no longer keeps block n answers with another block (chopsticks: genesis).
  if (block.block.header.number.toNumber() !== n) throw new Error(`block ${n} is no longer retained by the node`);
  return block;
}

/** The dispatch outcome of extrinsic `index` of a block, from that block's System.Events. */
async function outcomeAt(api: ApiPromise, signed: SignedBlock, index: number): Promise<ExtrinsicOutcome> {
  const block = blockRef(signed);
  const at = await api.at(block.hash);
  const events = (await at.query.system.events()) as unknown as EventRecord[];
  for (const { phase, event } of events) {
    if (!phase.isApplyExtrinsic || phase.asApplyExtrinsic.toNumber() !== index || event.section !== "system") continue;
    if (event.method === "ExtrinsicSuccess") return { kind: "success", block };
    if (event.method === "ExtrinsicFailed") {
      return { kind: "failed", block, error: dispatchErrorName(at.registry, event.data[0] as DispatchError) };
    }
  }
  throw new Error(`block ${block.number} has no outcome event for extrinsic ${index}`);
}

/** "pallet.Error" for a module error (e.g. "subtensorModule.SettingWeightsTooFast"), else the error's kind. */
function dispatchErrorName(registry: Registry, error: DispatchError): string {
  if (!error.isModule) return error.type;
  const meta = registry.findMetaError(error.asModule);
  return `${meta.section}.${meta.name}`;
}

function blockRef(signed: SignedBlock): BlockRef {
  const { header, extrinsics } = signed.block;
  const set = extrinsics.find((x) => x.method.section === "timestamp" && x.method.method === "set");
  if (!set) throw new Error(`block ${header.number.toNumber()} has no timestamp.set inherent`);
  return {
    number: header.number.toNumber(),
    hash: header.hash.toHex(),
    timestampMs: Number(String(set.method.args[0])),
  };
}

/** Commitments.CommitmentOf's value: what a hotkey committed, and when. */
interface Registration {
  readonly block: Codec;
  /** pallet_commitments `Data` values, decoded in commitment-data.ts. */
  readonly info: { readonly fields: readonly Codec[] };
}

/** The value of an Option, or null for None (and the value itself for a non-Option). */
function unwrapOption(value: Codec): Codec | null {
  const option = value as Codec & { isSome?: boolean; isNone?: boolean; unwrap?: () => Codec };
  if (typeof option.unwrap === "function" && typeof option.isSome === "boolean") {
    return option.isSome ? option.unwrap() : null;
  }
  return value.isEmpty ? null : value;
}

function toNumber(value: unknown): number {
  return Number(String(value));
}
