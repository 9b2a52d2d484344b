/**
 * A chain for workerd tests. Mocked because workerd cannot spawn the chopsticks process that
 * runs the real subtensor runtime, and workerd tests must never dial an endpoint (toolchain P5).
 * The real client, PolkadotChainClient, is tested against that runtime in test/node/.
 *
 * Blocks follow a fixed clock: block n is at anchor.atMs + (n − anchor.number)·blockMs.
 */
import type { BlockRef, ChainClient, Metagraph, NeuronInfo } from "../../../workers/chain/chain-client.ts";

export class FakeChain implements ChainClient {
  readonly calls = { head: 0, block: 0, metagraph: 0 };
  headNumber: number;
  neurons: NeuronInfo[];
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
}
