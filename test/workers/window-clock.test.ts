// The window clock and its cron tick over D1, with the fake chain (docs/SPEC.md §1).
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { neurons, windows } from "../../schema/db/index.ts";
import { getHparams } from "../../schema/hparams.ts";
import {
  certainlyClosed,
  judgeReceipt,
  openingBlock,
  putWindowFrom,
  windowOfBlock,
} from "../../schema/windows/window-math.ts";
import { workerContext } from "../../workers/context.ts";
import { type ChainReport, firstBlockAfter, windowTick } from "../../workers/cron/window-tick.ts";
import { FakeChain } from "./support/fake-chain.ts";
import { miner, neuronOf } from "./support/miners.ts";
import { db, type TestClock, testApp, testClock } from "./support/world.ts";

const w = getHparams("local").window;

describe("window arithmetic", () => {
  it("follows the SPEC: windows of bpw blocks, put window of S from block (S+1)·bpw, inclusive bounds", () => {
    expect(windowOfBlock(0, w)).toBe(0);
    expect(windowOfBlock(19, w)).toBe(0);
    expect(windowOfBlock(20, w)).toBe(1);
    expect(openingBlock(5, w)).toBe(120);
    const put = putWindowFrom(5, 1_000_000, w);
    expect(put).toEqual({ window: 5, opensAtMs: 1_000_000, closesAtMs: 1_018_000 });
    expect(judgeReceipt(999_999, put)).toBe("early");
    expect(judgeReceipt(1_000_000, put)).toBe("in_window");
    expect(judgeReceipt(1_018_000, put)).toBe("in_window");
    expect(judgeReceipt(1_018_001, put)).toBe("late");
    expect(judgeReceipt(1_000_000, null)).toBe("early");
    expect(certainlyClosed(5, 7, w)).toBe(false);
    expect(certainlyClosed(5, 9, w)).toBe(true);
  });
});

describe("window clock and tick", () => {
  const t0 = Date.now() - 700_000; // block 0, 700 s ago; a block every 3 s (block 200: 100 s ago)
  let chain: FakeChain;
  let clock: TestClock;
  const tick = () => windowTick(workerContext(env, () => chain, clock.now));

  beforeEach(() => {
    chain = new FakeChain({ headNumber: 200, anchor: { number: 0, atMs: t0 } });
    clock = testClock();
  });

  /** The world of two ticks, at heads 200 and 201 (the head recorded: 201, just now). */
  async function tickedAt201(): Promise<void> {
    chain.neurons = [neuronOf(miner(1)), neuronOf(miner(2))];
    await tick();
    chain.headNumber = 201;
    await tick();
  }

  it("finds the first block past a deadline by bisection", async () => {
    const head = chain.ref(200);
    expect((await firstBlockAfter(chain, t0 + 30_000, 0, head))?.number).toBe(11);
    expect((await firstBlockAfter(chain, t0 + 29_999, 0, head))?.number).toBe(10);
    expect(await firstBlockAfter(chain, head.timestampMs, 0, head)).toBeNull();
  });

  it("records put windows, their states and seed blocks on a tick", async () => {
    const report = await tick();
    // head 200 is in window 10; windows 8 and 9 have opening blocks (180, 200)
    expect((report.chain as ChainReport).putWindowsRecorded).toEqual([8, 9]);
    const row9 = await db.select().from(windows).where(eq(windows.window, 9)).get();
    // Past its close by the wall clock, but the head (block 200) was made before the close: open.
    expect(row9).toMatchObject({
      putOpensAtMs: t0 + 200 * 3000,
      putClosesAtMs: t0 + 200 * 3000 + 18_000,
      state: "training",
    });
    chain.headNumber = 207; // the first block past the close (block 206 is at the close exactly)
    await tick();
    // Closed, seeded and (no uploads to check) validated in that tick.
    expect((await db.select().from(windows).where(eq(windows.window, 9)).get())?.state).toBe("validated");
    // seed of window 8: first block after 180·3 s + 18 s → block 187
    expect((report.chain as ChainReport).seedBlocks).toContainEqual({ window: 8, block: 187 });
    expect((await db.select().from(windows).where(eq(windows.window, 8)).get())?.seedBlockHash).toBe(
      chain.ref(187).hash,
    );
  });

  it("syncs the metagraph on a tick, and deregistered uids leave it on the next sync", async () => {
    chain.neurons = [neuronOf(miner(1)), neuronOf(miner(2))];
    await tick();
    expect(await db.select().from(neurons)).toHaveLength(2);
    chain.neurons = [neuronOf(miner(2))];
    chain.headNumber = 201;
    await tick();
    expect((await db.select().from(neurons)).map((n) => n.uid)).toEqual([2]);
  });

  it("serves the head the tick recorded under a block time ago as is, and reads the chain for an older one", async () => {
    await tickedAt201();
    const app = testApp(chain, clock);
    chain.headNumber = 205;
    const cached = (await (await app.call("/v1/windows/current")).json()) as { block: number };
    expect(cached.block).toBe(201);
    clock.advance(10_000); // the recorded head is now 10 s old
    const res = await app.call("/v1/windows/current");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { block: number }).block).toBe(205);
  });

  it("serves the current window and the put windows around it", async () => {
    await tickedAt201();
    const app = testApp(chain, clock);
    chain.headNumber = 205;
    clock.advance(10_000); // past the recorded head's block time: read from the chain
    const res = await app.call("/v1/windows/current");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ netuid: 2, block: 205, window: 10, blocks_per_window: 20 });
    expect(body.put_window).toEqual({
      window: 9,
      opens_at_ms: t0 + 600_000,
      closes_at_ms: t0 + 618_000,
      state: "closed",
    });
    expect(body.next_put_window).toEqual({ window: 10, opening_block: 220, expected_opens_at_ms: t0 + 660_000 });
  });

  it("serves window 0 of a young chain with no put window, without reading the genesis block", async () => {
    chain.headNumber = 5;
    const app = testApp(chain, clock);
    const before = chain.calls.block;
    const res = await app.call("/v1/windows/current");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ block: 5, window: 0, put_window: null });
    expect(chain.calls.block).toBe(before);
  });

  it("serves a window the tick took to the end, and 404 for one never recorded", async () => {
    await tickedAt201();
    const app = testApp(chain, clock);
    const eight = (await (await app.call("/v1/windows/8")).json()) as Record<string, unknown>;
    // no submissions: copy detection, dispatch and scoring have nothing to do, so the tick took it to the end
    expect(eight).toMatchObject({
      window: 8,
      state: "scored",
      seed_block: { number: 187, hash: chain.ref(187).hash },
      submissions: {},
    });
    expect((await app.call("/v1/windows/4242")).status).toBe(404);
  });
});
