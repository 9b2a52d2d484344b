/**
 * The fake finney node on the wire: JSON-RPC over HTTP POST on loopback, the transport the
 * cron Worker's chain client uses (HttpProvider). One server hosts any number of nodes, each at
 * `/node/<id>`; `POST /new` with a FakeFinneyConfig creates one, so that a test inside workerd,
 * which cannot listen, gets a fresh node from a server the vitest global setup started in Node.
 *
 * It answers the RPCs @polkadot/api 16.5.6 uses to connect, sign, submit and read (listed by
 * `rpc_methods`: the API drops unlisted ones), and the `fake_*` control methods of
 * test/shared/support/fake-finney-control.ts, which `rpc_methods` does not list.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { compactToU8a, hexToU8a, u8aConcat, u8aToHex } from "@polkadot/util";
import type { FakeFinneyConfig } from "../../../shared/support/fake-finney-control.ts";
import { type FakeBlock, FakeFinneyChain, RpcFailure } from "./chain.ts";
import { FinneyRuntime } from "./runtime.ts";
import { SELECTIVE_METAGRAPH, selectiveMetagraph } from "./selective-metagraph.ts";

/** The metadata version the file holds; the node offers only it. */
const METADATA_VERSION = 16;

const NODE_METHODS = [
  "author_submitExtrinsic",
  "chain_getBlock",
  "chain_getBlockHash",
  "chain_getFinalizedHead",
  "chain_getHeader",
  "rpc_methods",
  "state_call",
  "state_getKeysPaged",
  "state_getMetadata",
  "state_getRuntimeVersion",
  "state_getStorage",
  "state_queryStorageAt",
  "system_accountNextIndex",
  "system_chain",
  "system_name",
  "system_properties",
  "system_version",
];

type Params = readonly unknown[];

/** A loopback server hosting fake finney nodes. */
export class FakeFinneyServer {
  readonly #server: Server;
  readonly #nodes = new Map<string, FakeFinneyChain>();
  readonly #metadataFile: string | undefined;
  #next = 0;
  /** http://127.0.0.1:port */
  readonly base: string;

  private constructor(server: Server, base: string, metadataFile: string | undefined) {
    this.#server = server;
    this.base = base;
    this.#metadataFile = metadataFile;
  }

  /** Listens on a free loopback port. The metadata is read when the first node is created. */
  static async start(metadataFile?: string): Promise<FakeFinneyServer> {
    let self: FakeFinneyServer | undefined;
    const server = createServer((req, res) => {
      if (!self) return reply(res, 503, { error: "starting" });
      self.#serve(req, res).catch((e) => reply(res, 500, { error: String(e) }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self = new FakeFinneyServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, metadataFile);
    return self;
  }

  /** A new node from `config`: its JSON-RPC URL and its chain (for tests in Node). */
  add(config: FakeFinneyConfig): { url: string; chain: FakeFinneyChain } {
    this.#next += 1;
    const id = String(this.#next);
    const chain = new FakeFinneyChain(config, FinneyRuntime.load(this.#metadataFile));
    this.#nodes.set(id, chain);
    return { url: `${this.base}/node/${id}`, chain };
  }

  /** Stops listening. */
  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = req.url ?? "/";
    if (req.method === "POST" && path === "/new") {
      const { url } = this.add(JSON.parse(body) as FakeFinneyConfig);
      return reply(res, 200, { url });
    }
    const id = /^\/node\/(\d+)$/.exec(path)?.[1];
    const chain = id === undefined ? undefined : this.#nodes.get(id);
    if (!chain || id === undefined) return reply(res, 404, { error: `no node at ${path}` });
    if (req.method === "DELETE") {
      this.#nodes.delete(id);
      return reply(res, 200, {});
    }
    const request = JSON.parse(body) as { id: unknown; method: string; params?: Params };
    try {
      const result = answer(chain, request.method, request.params ?? []);
      reply(res, 200, { jsonrpc: "2.0", id: request.id, result: result === undefined ? null : result });
    } catch (e) {
      const error = e instanceof RpcFailure ? e.body : { code: -32603, message: `fake node: ${(e as Error).message}` };
      reply(res, 200, { jsonrpc: "2.0", id: request.id, error });
    }
  }
}

/** One JSON-RPC method of a node. */
function answer(chain: FakeFinneyChain, method: string, params: Params): unknown {
  const { runtime } = chain;
  switch (method) {
    case "rpc_methods":
      return { version: 1, methods: NODE_METHODS };
    case "system_chain":
      return "Bittensor";
    case "system_name":
      return "fake-finney";
    case "system_version":
      return `spec-${runtime.specVersion}`;
    case "system_properties":
      return { ss58Format: 42, tokenDecimals: 9, tokenSymbol: "TAO" };
    case "state_getRuntimeVersion":
      blockAt(chain, params[0]);
      return runtime.version;
    case "state_getMetadata":
      blockAt(chain, params[0]);
      return u8aToHex(runtime.metadataBytes);
    case "state_call":
      if (params[0] === SELECTIVE_METAGRAPH)
        return selectiveMetagraph(runtime, blockAt(chain, params[2]).state, String(params[1] ?? "0x"));
      return stateCall(chain, String(params[0]), String(params[1] ?? "0x"));
    case "chain_getBlockHash":
      return blockHash(chain, params[0]);
    case "chain_getHeader":
      return blockAt(chain, params[0]).header;
    case "chain_getBlock": {
      const block = blockAt(chain, params[0]);
      return { block: { header: block.header, extrinsics: block.extrinsics }, justifications: null };
    }
    case "chain_getFinalizedHead":
      return chain.finalized.hash;
    case "state_getStorage":
      return blockAt(chain, params[1]).state.get(String(params[0]).toLowerCase()) ?? null;
    case "state_queryStorageAt": {
      const block = blockAt(chain, params[1]);
      const keys = (params[0] as string[]).map((k) => k.toLowerCase());
      return [{ block: block.hash, changes: keys.map((k) => [k, block.state.get(k) ?? null]) }];
    }
    case "state_getKeysPaged": {
      const block = blockAt(chain, params[3]);
      return chain.keysPaged(block.state, String(params[0]), Number(params[1]), params[2] as string | null);
    }
    case "system_accountNextIndex":
      return chain.accountNextIndex(String(params[0]));
    case "author_submitExtrinsic":
      return chain.submit(String(params[0]));
    // --- control (test/shared/support/fake-finney-control.ts) ---
    case "fake_produceBlocks":
      for (let i = 0; i < Number(params[0] ?? 1); i++) chain.produceBlock();
      return chain.head.number;
    case "fake_advanceTo":
      return chain.advanceTo(Number(params[0])).number;
    case "fake_injectPoolError":
      return chain.injectPoolError(Number(params[0]), Number(params[1] ?? 1));
    case "fake_setStorage":
      return chain.setStorage(String(params[0]), String(params[1]), params[2] as unknown[], params[3]);
    case "fake_addPulse":
      return chain.addPulse(Number(params[0]));
    case "fake_info":
      return chain.info();
    case "fake_nextEpochStart":
      return chain.nextEpochStart(Number(params[0]));
    default:
      throw new RpcFailure(-32601, `Method not found: ${method}`);
  }
}

/** The runtime calls the API makes at connection: the metadata versions and the metadata itself. */
function stateCall(chain: FakeFinneyChain, method: string, data: string): string {
  if (method === "Metadata_metadata_versions") return u8aToHex(u8aConcat(compactToU8a(1), u32le(METADATA_VERSION)));
  if (method === "Metadata_metadata_at_version") {
    const asked = new DataView(hexToU8a(data).buffer).getUint32(0, true);
    if (asked !== METADATA_VERSION) return "0x00"; // None
    const bytes = chain.runtime.metadataBytes;
    return u8aToHex(u8aConcat(new Uint8Array([1]), compactToU8a(bytes.length), bytes));
  }
  throw new RpcFailure(-32000, `Client error: Execution failed: Other: Exported method ${method} is not found`);
}

/** The block a hash names, or the best block for none; an unknown hash is an error, as on a node. */
function blockAt(chain: FakeFinneyChain, hash: unknown): FakeBlock {
  if (hash === undefined || hash === null) return chain.head;
  const block = chain.blockByHash(String(hash));
  if (!block) throw new RpcFailure(4003, `Client error: UnknownBlock: Header was not found in the database: ${hash}`);
  return block;
}

function blockHash(chain: FakeFinneyChain, n: unknown): string | null {
  if (n === undefined || n === null) return chain.head.hash;
  const number = typeof n === "string" && n.startsWith("0x") ? Number.parseInt(n, 16) : Number(n);
  return chain.blocks[number]?.hash ?? null;
}

function u32le(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
