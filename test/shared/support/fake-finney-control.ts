/**
 * How a test sets up and drives the fake finney node (test/node/support/fake-finney/): the
 * scenario it starts from, and the `fake_*` JSON-RPC methods it answers beside the node's own.
 * Runtime-agnostic (fetch only), so a test inside workerd drives a node that runs in Node.
 */

/** A rao amount or u64 as JSON carries it: a bigint in Node, a decimal string over HTTP. */
export type Amount = bigint | number | string;

/** A uid on a fake subnet. */
export interface FakeNeuron {
  /** ss58. */
  readonly hotkey: string;
  /** ss58; a fixed key when absent. */
  readonly coldkey?: string;
  /** TotalHotkeyAlpha(hotkey, netuid). */
  readonly alphaStake?: Amount;
  /** TotalHotkeyAlpha(hotkey, 0): root stake, weighed by TaoWeight. */
  readonly rootStake?: Amount;
  /** Default true. */
  readonly validatorPermit?: boolean;
}

/** A subnet and its weights settings; absent settings are finney's storage defaults unless noted. */
export interface FakeSubnet {
  readonly netuid: number;
  /** Default 10 (finney: 360): an epoch of 11 blocks. */
  readonly tempo?: number;
  readonly revealPeriodEpochs?: number;
  readonly commitRevealEnabled?: boolean;
  readonly weightsSetRateLimit?: number;
  readonly weightsVersionKey?: Amount;
  /** Default 1 (finney's storage default is 1024). */
  readonly minAllowedWeights?: number;
  readonly maxWeightsLimit?: number;
  readonly mechanismCount?: number;
  /** ss58 of the owner's hotkey (SubnetOwnerHotkey): exempt from the stake threshold. */
  readonly ownerHotkey?: string;
  /** uid i is neurons[i]. */
  readonly neurons: readonly FakeNeuron[];
}

/** The state a fake node starts from. */
export interface FakeFinneyConfig {
  readonly subnets: readonly FakeSubnet[];
  /** SubtensorModule.StakeThreshold; default 0. */
  readonly stakeThreshold?: Amount;
  /** SubtensorModule.TaoWeight, a fraction of u64::MAX; finney's default when absent. */
  readonly taoWeight?: Amount;
  /** CommitRevealWeightsVersion; default 4. */
  readonly commitRevealVersion?: number;
  /** The drand rounds whose pulses are stored: only 1000 and 2000 have real signatures. Default [1000]. */
  readonly pulses?: readonly number[];
  /** Drand.LastStoredRound; default the highest stored pulse. */
  readonly lastStoredRound?: number;
  /** The time of block 0, unix ms; block n is at genesisMs + n·blockMs. */
  readonly genesisMs?: number;
  /** Default 12 000. */
  readonly blockMs?: number;
  /** Blocks produced at start (each with its timestamp inherent); default 1. */
  readonly startBlocks?: number;
  /** How far the finalised head trails the best block; default 0. */
  readonly finalityLag?: number;
  /** "pallet.method" calls the pool takes (the node implements the weights calls only); default all four. */
  readonly acceptCalls?: readonly string[];
}

/** A JSON-RPC error as the node answers it: a pool refusal is code 1010, "Invalid Transaction", data "Custom error: N". */
export interface RpcErrorBody {
  readonly code: number;
  readonly message: string;
  readonly data?: string;
}

/** What the node did with one `author_submitExtrinsic`. */
export interface SubmissionRecord {
  /** Bytes of the extrinsic on the wire (its hex decoded), length prefix included. */
  readonly bytes: number;
  /** "subtensorModule.commitTimelockedWeights", or null if it did not decode. */
  readonly call: string | null;
  readonly callIndex: readonly [number, number] | null;
  readonly txHash: string | null;
  /** Null when the pool took it. */
  readonly rejected: RpcErrorBody | null;
}

/** What happened to a pooled transaction when a block was built. */
export interface InclusionRecord {
  readonly txHash: string;
  /** The block it went into, or null if it was dropped from the pool (invalid by then, or its era ended). */
  readonly block: number | null;
  /** "pallet.Error" of a failed dispatch, the drop reason, or null on success. */
  readonly error: string | null;
}

/** Why the fake reveal dropped or kept a commit (the chain only logs these). */
export interface RevealRecord {
  readonly block: number;
  readonly netuidIndex: number;
  /** ss58. */
  readonly hotkey: string;
  readonly revealRound: number;
  /** "revealed", "kept" (no pulse yet), "expired" (bucket deleted unread), or the drop reason. */
  readonly outcome: string;
}

/** The node's own account of itself, for assertions. */
export interface FakeFinneyInfo {
  readonly head: number;
  readonly headHash: string;
  readonly genesisHash: string;
  readonly specVersion: number;
  readonly submissions: readonly SubmissionRecord[];
  readonly inclusions: readonly InclusionRecord[];
  readonly reveals: readonly RevealRecord[];
}

/** Drives one fake node through its `fake_*` methods, over HTTP. */
export class FakeFinneyControl {
  readonly url: string;
  #id = 0;

  constructor(url: string) {
    this.url = url;
  }

  /** Asks a fake node server (`base`, from the global setup) for a fresh node; returns its control. */
  static async create(base: string, config: FakeFinneyConfig): Promise<FakeFinneyControl> {
    const res = await fetch(`${base}/new`, { method: "POST", body: JSON.stringify(config, bigintAsString) });
    if (!res.ok) throw new Error(`fake finney node: ${res.status} ${await res.text()}`);
    const { url } = (await res.json()) as { url: string };
    return new FakeFinneyControl(url);
  }

  async #call<T>(method: string, params: unknown[] = []): Promise<T> {
    this.#id += 1;
    const body = JSON.stringify({ jsonrpc: "2.0", id: this.#id, method, params }, bigintAsString);
    const res = await fetch(this.url, { method: "POST", headers: { "content-type": "application/json" }, body });
    const reply = (await res.json()) as { result?: T; error?: RpcErrorBody };
    if (reply.error) throw new Error(`${method}: ${reply.error.code}: ${reply.error.message}`);
    return reply.result as T;
  }

  /** Builds `n` blocks; returns the new head. */
  produceBlocks(n = 1): Promise<number> {
    return this.#call("fake_produceBlocks", [n]);
  }

  /** Builds blocks until the head is `block`; returns it. */
  advanceTo(block: number): Promise<number> {
    return this.#call("fake_advanceTo", [block]);
  }

  /** Answers the next `times` well-formed submissions with `1010 Invalid Transaction: Custom error: code`. */
  injectPoolError(code: number, times = 1): Promise<void> {
    return this.#call("fake_injectPoolError", [code, times]);
  }

  /** Writes `pallet.item(...keys) = value` into the head's state (a value `registry.createType` takes). */
  setStorage(pallet: string, item: string, keys: readonly unknown[], value: unknown): Promise<void> {
    return this.#call("fake_setStorage", [pallet, item, keys, value]);
  }

  /** Stores drand's pulse of `round` (1000 or 2000) on chain. */
  addPulse(round: number): Promise<void> {
    return this.#call("fake_addPulse", [round]);
  }

  /** Submissions, inclusions and reveals so far, and the head. */
  info(): Promise<FakeFinneyInfo> {
    return this.#call("fake_info");
  }

  /** The first block of the epoch after the head's, on the modulo rule the spec-393 runtime uses. */
  nextEpochStart(netuid: number): Promise<number> {
    return this.#call("fake_nextEpochStart", [netuid]);
  }

  /** Forgets this node on the server. */
  async close(): Promise<void> {
    await fetch(this.url, { method: "DELETE" });
  }
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
