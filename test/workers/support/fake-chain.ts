/**
 * A chain for workerd tests. Mocked because workerd cannot spawn the chopsticks process that
 * runs the real subtensor runtime, and workerd tests must never dial an endpoint that is not
 * there (docs/TOOLCHAIN.md §3). The real client, PolkadotChainClient, is tested against that
 * runtime in test/node/, the cron Worker setting weights through it inside workerd in
 * test/node/weights-e2e.test.ts, and its timelocked path inside workerd against the fake finney
 * node in test/workers/weights-timelocked.test.ts.
 *
 * Blocks follow a fixed clock: block n is at anchor.atMs + (n − anchor.number)·blockMs. A
 * transaction submitted at head h lands in block h + 1 once the test moves the head there; what
 * it does then follows the subtensor checks the validator relies on (rate limit, version key,
 * registration, stake, commit-reveal, the reveal epoch on the modulo rule), with the same error names.
 */

import type { EdgeError } from "../../../schema/errors.ts";
import type { HotkeySigner } from "../../../schema/keys/hotkey-signer.ts";
import type {
  BlockRef,
  ChainClient,
  Commitment,
  ExtrinsicSearch,
  Metagraph,
  NeuronInfo,
  RevealCall,
  SubmittedTx,
  TimelockedCommit,
  TimelockedRevealSearch,
  TimelockState,
  WeightsCall,
  WeightsState,
} from "../../../workers/chain/chain-client.ts";
import { chainTimedOut, handedOver } from "../../../workers/chain/chain-errors.ts";
import { weightsStakeRule } from "../../../workers/chain/stake-rule.ts";
import { commitHash } from "../../../workers/chain/weights-commit.ts";
import { moduloEpoch } from "../../../workers/weights/epoch-schedule.ts";

type TxKind = "set" | "commit" | "reveal";

interface FakeTx {
  readonly hash: string;
  readonly kind: TxKind;
  readonly hotkey: string;
  readonly call: WeightsCall | RevealCall | { netuid: number; commitHash: string };
  readonly inBlock: number;
  /** Decided when the block is built. */
  error?: string | null;
}

export class FakeChain implements ChainClient {
  readonly calls = { head: 0, block: 0, metagraph: 0 };
  headNumber: number;
  neurons: NeuronInfo[];
  commitmentList: Commitment[] = [];
  /** Subnet settings, as the chain would report them. */
  settings = {
    commitRevealEnabled: false,
    rateLimitBlocks: 0,
    versionKey: 0n,
    minStakeRao: 0n,
    /** Epochs on the ≤ 422 modulo rule, as on spec 218: a hash commit is revealed in the next epoch. */
    tempo: 360,
    revealPeriodEpochs: 1,
    rootStakeRao: 0n,
    taoWeight: 0n,
    subnetOwnerHotkey: null as string | null,
    hasParentKeys: false,
  };
  /** Every transaction submitted, in order. */
  readonly txs: FakeTx[] = [];
  /** Stored weights per uid, max-upscaled like the chain. */
  readonly stored = new Map<number, [number, number][]>();
  /** Makes the next submission fail at the pool with this error (e.g. to test the mapping). */
  refuseNext: EdgeError | null = null;
  /**
   * Makes the next submission reach the pool while the node goes silent before answering: it
   * fails as PolkadotChainClient fails then (CHAIN_UNAVAILABLE naming the transaction handed over).
   */
  silentAfterNextSubmit = false;
  readonly #lastUpdate = new Map<number, number>();
  readonly #commits = new Map<string, { hash: string; block: number }>();
  readonly #anchor: { number: number; atMs: number };
  readonly #blockMs: number;

  constructor(opts: {
    headNumber: number;
    anchor: { number: number; atMs: number };
    blockMs?: number;
    neurons?: NeuronInfo[];
  }) {
    this.headNumber = opts.headNumber;
    this.#anchor = opts.anchor;
    this.#blockMs = opts.blockMs ?? 3000;
    this.neurons = opts.neurons ?? [];
  }

  ref(n: number): BlockRef {
    return {
      number: n,
      hash: `0x${n.toString(16).padStart(64, "0")}`,
      timestampMs: this.#anchor.atMs + (n - this.#anchor.number) * this.#blockMs,
    };
  }

  async head(): Promise<BlockRef> {
    this.calls.head++;
    return this.ref(this.headNumber);
  }

  async block(n: number): Promise<BlockRef | null> {
    this.calls.block++;
    return n > this.headNumber ? null : this.ref(n);
  }

  async metagraph(): Promise<Metagraph> {
    this.calls.metagraph++;
    return { block: this.ref(this.headNumber), neurons: this.neurons };
  }

  async commitments(): Promise<readonly Commitment[]> {
    return this.commitmentList;
  }

  async weights(_netuid: number, uid: number): Promise<readonly (readonly [number, number])[]> {
    this.#build();
    return this.stored.get(uid) ?? [];
  }

  async weightsState(_netuid: number, hotkey: string): Promise<WeightsState> {
    this.#build();
    const n = this.neurons.find((x) => x.hotkey === hotkey);
    return {
      block: this.ref(this.headNumber),
      uid: n?.uid ?? null,
      commitRevealEnabled: this.settings.commitRevealEnabled,
      rateLimitBlocks: this.settings.rateLimitBlocks,
      lastUpdateBlock: n ? (this.#lastUpdate.get(n.uid) ?? 0) : null,
      versionKey: this.settings.versionKey,
      minStakeRao: this.settings.minStakeRao,
      stakeRao: n?.stakeRao ?? 0n,
      rootStakeRao: this.settings.rootStakeRao,
      taoWeight: this.settings.taoWeight,
      subnetOwnerHotkey: this.settings.subnetOwnerHotkey,
      hasParentKeys: this.settings.hasParentKeys,
      hashCommits: [...this.#commits.entries()]
        .filter(([who]) => who === hotkey)
        .map(([, c]) => ({ hash: c.hash, commitBlock: c.block, commitEpoch: null })),
      subnetEpochIndex: null,
    };
  }

  async submitSetWeights(signer: HotkeySigner, call: WeightsCall): Promise<SubmittedTx> {
    return this.#submit("set", signer, call);
  }

  async submitCommitWeights(signer: HotkeySigner, netuid: number, hash: string): Promise<SubmittedTx> {
    return this.#submit("commit", signer, { netuid, commitHash: hash });
  }

  async submitRevealWeights(signer: HotkeySigner, call: RevealCall): Promise<SubmittedTx> {
    return this.#submit("reveal", signer, call);
  }

  /** Like spec 218: no timelocked calls, no Drand pallet, the modulo epoch (the fake finney node has them). */
  async timelockState(netuid: number, mecid?: number): Promise<TimelockState> {
    return {
      block: this.ref(this.headNumber),
      netuidIndex: netuid + (mecid ?? 0) * 4096,
      commitRevealEnabled: this.settings.commitRevealEnabled,
      timelockedCallAvailable: false,
      commitRevealVersion: null,
      revealPeriodEpochs: this.settings.revealPeriodEpochs,
      tempo: this.settings.tempo,
      lastStoredRound: null,
      mechanismCount: 1,
      epochs: { kind: "modulo" },
    };
  }

  async submitTimelockedCommit(): Promise<SubmittedTx> {
    throw new Error("FakeChain has no timelocked commits (spec 218); test them on the fake finney node");
  }

  async timelockedCommits(): Promise<readonly TimelockedCommit[]> {
    return [];
  }

  async findTimelockedReveal(_query: unknown, fromBlock: number, maxBlocks: number): Promise<TimelockedRevealSearch> {
    return { revealedAt: null, searchedTo: Math.min(this.headNumber, fromBlock + maxBlocks - 1) };
  }

  async findExtrinsic(txHash: string, fromBlock: number, maxBlocks: number): Promise<ExtrinsicSearch> {
    this.#build();
    const to = Math.min(this.headNumber, fromBlock + maxBlocks - 1);
    const tx = this.txs.find((t) => t.hash === txHash && t.inBlock >= fromBlock && t.inBlock <= to);
    if (!tx) return { outcome: null, searchedTo: to };
    const block = this.ref(tx.inBlock);
    return {
      outcome: tx.error ? { kind: "failed", block, error: tx.error } : { kind: "success", block },
      searchedTo: to,
    };
  }

  #submit(kind: TxKind, signer: HotkeySigner, call: FakeTx["call"]): SubmittedTx {
    if (this.refuseNext) {
      const e = this.refuseNext;
      this.refuseNext = null;
      throw e;
    }
    const hash = `0x${(this.txs.length + 1).toString(16).padStart(64, "a")}`;
    this.txs.push({ hash, kind, hotkey: signer.address, call, inBlock: this.headNumber + 1 });
    const tx = {
      txHash: hash,
      nonce: this.txs.length - 1,
      atBlock: this.headNumber,
      validUntilBlock: this.headNumber + 64,
    };
    if (this.silentAfterNextSubmit) {
      this.silentAfterNextSubmit = false;
      throw handedOver(chainTimedOut("the node", 10_000), tx);
    }
    return tx;
  }

  /** Applies every transaction whose block the head has reached, in order. */
  #build(): void {
    for (const tx of this.txs) {
      if (tx.error !== undefined || tx.inBlock > this.headNumber) continue;
      tx.error = this.#apply(tx);
    }
  }

  #apply(tx: FakeTx): string | null {
    const n = this.neurons.find((x) => x.hotkey === tx.hotkey);
    if (!n) return "subtensorModule.HotKeyNotRegisteredInSubNet";
    const stake = weightsStakeRule({
      alphaStake: n.stakeRao,
      rootStake: this.settings.rootStakeRao,
      taoWeight: this.settings.taoWeight,
      stakeThreshold: this.settings.minStakeRao,
      hotkey: n.hotkey,
      subnetOwnerHotkey: this.settings.subnetOwnerHotkey,
      registered: true,
    });
    // A hotkey with parents inherits stake this fake does not model: it passes.
    if (!stake.allowed && !this.settings.hasParentKeys) return "subtensorModule.NotEnoughStakeToSetWeights";
    if (tx.kind === "commit") {
      if (!this.settings.commitRevealEnabled) return "subtensorModule.CommitRevealDisabled";
      const last = this.#lastUpdate.get(n.uid) ?? 0;
      if (last > 0 && tx.inBlock - last < this.settings.rateLimitBlocks) return "subtensorModule.SettingWeightsTooFast";
      this.#commits.set(tx.hotkey, { hash: (tx.call as { commitHash: string }).commitHash, block: tx.inBlock });
      this.#lastUpdate.set(n.uid, tx.inBlock); // a commit moves LastUpdate; its reveal does not
      return null;
    }
    const call = tx.call as WeightsCall;
    if (call.versionKey < this.settings.versionKey) return "subtensorModule.IncorrectWeightVersionKey";
    if (tx.kind === "set") {
      if (this.settings.commitRevealEnabled) return "subtensorModule.CommitRevealEnabled";
      const last = this.#lastUpdate.get(n.uid) ?? 0;
      if (last > 0 && tx.inBlock - last < this.settings.rateLimitBlocks) return "subtensorModule.SettingWeightsTooFast";
    } else {
      const commit = this.#commits.get(tx.hotkey);
      if (!commit) return "subtensorModule.NoWeightsCommitFound";
      const { tempo, revealPeriodEpochs } = this.settings;
      const revealEpoch = moduloEpoch(commit.block, call.netuid, tempo) + revealPeriodEpochs;
      const epoch = moduloEpoch(tx.inBlock, call.netuid, tempo);
      if (epoch < revealEpoch) return "subtensorModule.RevealTooEarly";
      if (epoch > revealEpoch) return "subtensorModule.ExpiredWeightCommit";
      if (commitHash(tx.hotkey, call as RevealCall) !== commit.hash)
        return "subtensorModule.InvalidRevealCommitHashNotMatch";
      this.#commits.delete(tx.hotkey);
    }
    const max = Math.max(...call.values);
    this.stored.set(
      n.uid,
      call.uids.map((u, i) => [u, Math.round(((call.values[i] as number) / max) * 65535)]),
    );
    if (tx.kind === "set") this.#lastUpdate.set(n.uid, tx.inBlock);
    return null;
  }
}

/**
 * A node that has stopped answering, as the validator sees it through the real client: while
 * `down`, every call of `client` fails as PolkadotChainClient's deadline makes it fail
 * (CHAIN_UNAVAILABLE, "timed out after N ms"), without waiting the deadline out. The deadline
 * itself is tested against a silent server and a SIGSTOPped chopsticks in
 * test/node/chain-timeout.test.ts; workerd tests cannot dial a hung node.
 */
export class ChainOutage {
  down = false;
  /** While set (and `down`), calls hang until release(): the node took the request and went silent. */
  hung = false;
  readonly #hanging: (() => void)[] = [];
  /** The chain calls refused while down. */
  refused = 0;
  /** The names of the calls refused, in order. */
  readonly refusedCalls: string[] = [];
  readonly client: FakeChain;

  constructor(chain: FakeChain, timeoutMs = 10_000) {
    this.client = new Proxy(chain, {
      get: (target, prop) => {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (!this.down) return value.apply(target, args);
          this.refused += 1;
          this.refusedCalls.push(String(prop));
          const failure = chainTimedOut(String(prop), timeoutMs);
          if (this.hung) return new Promise((_, reject) => this.#hanging.push(() => reject(failure)));
          return Promise.reject(failure);
        };
      },
    });
  }

  /** Fails the hanging calls as the real client's deadline fails them. */
  release(): void {
    for (const fail of this.#hanging.splice(0)) fail();
  }
}
