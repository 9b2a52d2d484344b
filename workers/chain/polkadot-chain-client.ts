/**
 * The chain client on @polkadot/api: JSON-RPC over HTTP (fetch, so it runs in workerd) or a
 * WebSocket. `initWasm: false` is mandatory in workerd, where wasm cannot be compiled (without
 * it ApiPromise never becomes ready). Block times come from each block's `timestamp.set`
 * inherent, which is exact on mainnet and immune to the local chain's time travel.
 */
import { ApiPromise, HttpProvider, WsProvider } from "@polkadot/api";
import type { SignedBlock } from "@polkadot/types/interfaces";
import type { BlockRef, ChainClient, Metagraph, NeuronInfo } from "./chain-client.ts";

/** Connects lazily; one ApiPromise per client. */
export class PolkadotChainClient implements ChainClient {
  readonly #url: string;
  #api: Promise<ApiPromise> | undefined;

  constructor(url: string) {
    this.#url = url;
  }

  /** The connected API (metadata fetched once per client). */
  api(): Promise<ApiPromise> {
    this.#api ??= ApiPromise.create({
      provider: /^wss?:/.test(this.#url) ? new WsProvider(this.#url) : new HttpProvider(this.#url),
      initWasm: false,
      noInitWarn: true,
      throwOnConnect: true,
    });
    return this.#api;
  }

  async head(): Promise<BlockRef> {
    const api = await this.api();
    const hash = await api.rpc.chain.getBlockHash();
    return blockRef(await api.rpc.chain.getBlock(hash));
  }

  async block(n: number): Promise<BlockRef | null> {
    const api = await this.api();
    const hash = await api.rpc.chain.getBlockHash(n);
    if (hash.isEmpty) return null;
    const block = await api.rpc.chain.getBlock(hash);
    // A node that no longer keeps block n answers with another block (chopsticks: genesis).
    if (block.block.header.number.toNumber() !== n) throw new Error(`block ${n} is no longer retained by the node`);
    return blockRef(block);
  }

  async metagraph(netuid: number): Promise<Metagraph> {
    const api = await this.api();
    const head = await this.head();
    const at = await api.at(head.hash);
    const sm = at.query.subtensorModule;
    const keys = await sm.keys.entries(netuid);
    const entries = keys
      .map(([key, hotkey]) => ({
        uid: (key.args[1] as unknown as { toNumber(): number }).toNumber(),
        hotkey: hotkey.toString(),
      }))
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
  }

  /** Closes the connection (WebSocket providers). */
  async disconnect(): Promise<void> {
    if (this.#api) await (await this.#api).disconnect();
  }
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
