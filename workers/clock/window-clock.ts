/**
 * The window clock: the chain head and the put windows, as recorded in D1 and read from the
 * chain when D1 does not know them yet (a put window's opening block can be seconds old when the
 * first upload for it arrives, long before the next cron tick).
 */
import { eq, sql } from "drizzle-orm";
import { chainHead, windows } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { WindowHparams } from "../../schema/hparams.ts";
import { openingBlock, type PutWindow, putWindowFrom } from "../../schema/windows/window-math.ts";
import type { BlockRef, ChainClient } from "../chain/chain-client.ts";
import { chainUnavailable } from "../chain/chain-errors.ts";
import type { Database } from "../d1.ts";
import { recordedState } from "../windows/window-lifecycle.ts";
import { headFreshness, lastChainErrorAtMs, recordChainError } from "./head-freshness.ts";

/** A head, and whether it is stale. */
export interface ClockHead {
  readonly head: BlockRef;
  /**
   * True when the chain did not answer in time and this is the head D1 recorded, or when the head
   * is older than `window.stale_head_blocks` block times (head-freshness.ts).
   */
  readonly stale: boolean;
}

/** Calls the chain, turning its failures into CHAIN_UNAVAILABLE (503: ours, not the client's). */
export async function fromChain<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof EdgeError) throw e;
    throw chainUnavailable(what, e);
  }
}

/**
 * How long a window-clock request waits for the chain before it answers from the head D1
 * recorded. A healthy node answers a head read in well under a second; a hung one only at the
 * chain call's deadline (10 s by default), and a miner that waits that long for the clock can miss
 * a put window. The read goes on after the answer, and records what it learns.
 */
export const CLOCK_CHAIN_WAIT_MS = 2_000;

export class WindowClock {
  readonly #db: Database;
  readonly #chain: () => ChainClient;
  readonly #w: WindowHparams;
  readonly #now: () => number;
  readonly #defer: (work: Promise<unknown>) => void;

  /** `defer`: runs work the answer need not wait for (the invocation's waitUntil). */
  constructor(
    db: Database,
    chain: () => ChainClient,
    w: WindowHparams,
    now: () => number,
    defer: (work: Promise<unknown>) => void,
  ) {
    this.#db = db;
    this.#chain = chain;
    this.#w = w;
    this.#now = now;
    this.#defer = defer;
  }

  /** The head recorded in D1, if any. */
  async recordedHead(): Promise<(BlockRef & { seenAtMs: number }) | undefined> {
    const row = await this.#db.select().from(chainHead).where(eq(chainHead.id, 1)).get();
    return row && { number: row.block, hash: row.hash, timestampMs: row.timestampMs, seenAtMs: row.seenAtMs };
  }

  /** The chain head: D1's if read less than one block time ago, else the chain's (and recorded). */
  async head(): Promise<BlockRef> {
    const recorded = await this.recordedHead();
    if (recorded && this.#now() - recorded.seenAtMs < this.#w.block_time_ms) return recorded;
    const head = await fromChain("the head", () => this.#chain().head());
    await this.recordHead(head);
    return head;
  }

  /**
   * The head for a client that must get an answer while the chain is down (the window clock of
   * GET /v1/windows/current): as head(), but the head D1 recorded, flagged stale, where the chain
   * fails, failed less than one block time ago, or has not answered within CLOCK_CHAIN_WAIT_MS.
   * CHAIN_UNAVAILABLE only if no head was ever recorded.
   */
  async headOrRecorded(): Promise<ClockHead> {
    const recorded = await this.recordedHead();
    const now = this.#now();
    const judged = (head: BlockRef): ClockHead => ({
      head,
      stale: headFreshness(head.timestampMs, now, this.#w).stale,
    });
    if (!recorded) return judged(await this.#readHead());
    if (now - recorded.seenAtMs < this.#w.block_time_ms) return judged(recorded);
    // Asked again one block time after a failure, not at every request: each read of a hung node
    // holds a connection until its deadline.
    const failedAt = await lastChainErrorAtMs(this.#db);
    const fromD1: ClockHead = { head: recorded, stale: true };
    if (failedAt != null && failedAt > recorded.seenAtMs && now - failedAt < this.#w.block_time_ms) return fromD1;
    const read = this.#readHead().then(judged, (e: unknown) => {
      if (e instanceof EdgeError && e.code === "CHAIN_UNAVAILABLE") return fromD1;
      throw e;
    });
    const waited = new Promise<undefined>((resolve) => {
      const timer = setTimeout(resolve, CLOCK_CHAIN_WAIT_MS);
      const done = () => clearTimeout(timer);
      read.then(done, done);
    });
    const answer = await Promise.race([read, waited]);
    if (answer) return answer;
    this.#defer(read.catch(() => undefined));
    return fromD1;
  }

  /** Reads the head from the chain and records it, or records the chain's failure and rethrows it. */
  async #readHead(): Promise<BlockRef> {
    try {
      const head = await fromChain("the head", () => this.#chain().head());
      await this.recordHead(head);
      return head;
    } catch (e) {
      if (e instanceof EdgeError && e.code === "CHAIN_UNAVAILABLE")
        await recordChainError(this.#db, e.message, this.#now());
      throw e;
    }
  }

  /** Records a head read from the chain (never moving the recorded head backwards). */
  async recordHead(head: BlockRef): Promise<void> {
    const row = { id: 1, block: head.number, hash: head.hash, timestampMs: head.timestampMs, seenAtMs: this.#now() };
    await this.#db
      .insert(chainHead)
      .values(row)
      .onConflictDoUpdate({ target: chainHead.id, set: row, setWhere: sql`${chainHead.block} <= ${head.number}` });
  }

  /** The put window of S from D1, or from the chain once its opening block exists; null before that. */
  async putWindow(window: number): Promise<PutWindow | null> {
    const row = await this.#db
      .select({ opens: windows.putOpensAtMs, closes: windows.putClosesAtMs })
      .from(windows)
      .where(eq(windows.window, window))
      .get();
    if (row?.opens != null && row.closes != null) return { window, opensAtMs: row.opens, closesAtMs: row.closes };
    const n = openingBlock(window, this.#w);
    const block = await fromChain(`block ${n}`, () => this.#chain().block(n));
    if (!block) return null;
    return this.recordOpening(window, block);
  }

  /** Records the opening block of the put window of S (which is also the first block of S+1). */
  async recordOpening(window: number, block: BlockRef): Promise<PutWindow> {
    const put = putWindowFrom(window, block.timestampMs, this.#w);
    const bpw = this.#w.blocks_per_window;
    const now = this.#now();
    // A window is recorded in the state its put window implies; a known one keeps its state
    // (only the lifecycle's transitions move it).
    await this.#db
      .insert(windows)
      .values({
        window,
        startBlock: window * bpw,
        endBlock: (window + 1) * bpw - 1,
        putOpensAtMs: put.opensAtMs,
        putClosesAtMs: put.closesAtMs,
        state: recordedState(put, now),
        updatedAtMs: now,
      })
      .onConflictDoUpdate({
        target: windows.window,
        set: { putOpensAtMs: put.opensAtMs, putClosesAtMs: put.closesAtMs, updatedAtMs: now },
      });
    const next = { startBlockHash: block.hash, startBlockAtMs: block.timestampMs, updatedAtMs: now };
    await this.#db
      .insert(windows)
      .values({
        window: window + 1,
        startBlock: block.number,
        endBlock: block.number + bpw - 1,
        state: recordedState(null, now),
        ...next,
      })
      .onConflictDoUpdate({ target: windows.window, set: next });
    return put;
  }
}
