// The validator while the chain does not answer (issue 17), in workerd over the real D1: the cron
// tick goes on without phase 1, the recorded head turns stale (flagged in /v1/status, on the
// dashboard and once in the log), put windows are not closed on the stale clock, and
// /v1/windows/current answers from the recorded head. The hung node is support/fake-chain.ts's
// ChainOutage: every call fails as the real client's deadline makes it fail.
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { windows } from "../../schema/db/index.ts";
import { lastChainErrorAtMs } from "../../workers/clock/head-freshness.ts";
import { workerContext } from "../../workers/context.ts";
import { windowTick } from "../../workers/cron/window-tick.ts";
import { ChainOutage, FakeChain } from "./support/fake-chain.ts";
import { db, type TestClock, testApp, testClock } from "./support/world.ts";

/** Every JSON log line written while `run` runs, and what it returned. */
async function captureLogs<T>(run: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  const spies = (["log", "warn", "error"] as const).map((m) => vi.spyOn(console, m).mockImplementation(keep));
  try {
    const result = await run();
    return { result, lines: lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)) };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

const events = (lines: Record<string, unknown>[], name: string) => lines.filter((l) => l.event === name);

afterEach(() => vi.restoreAllMocks());

const BLOCK_MS = 3000;

describe("a chain that stops answering", () => {
  let chain: FakeChain;
  let outage: ChainOutage;
  let clock: TestClock;
  const tick = () => windowTick(workerContext(env, () => outage.client, clock.now));
  const stateOf = async (w: number) => (await db.select().from(windows).where(eq(windows.window, w)).get())?.state;

  beforeEach(() => {
    clock = testClock();
    // Block 200 (the opening block of window 9's put window) made just now; a block every 3 s.
    chain = new FakeChain({ headNumber: 200, anchor: { number: 200, atMs: clock.now() }, blockMs: BLOCK_MS });
    outage = new ChainOutage(chain);
  });

  it("keeps the window clock from D1, flags the stale head once, and closes no window until the chain moves", async () => {
    const app = testApp(outage.client, clock);
    const first = await tick();
    expect(first).toMatchObject({ headStale: false, failed: [] });
    expect(await stateOf(9)).toBe("training"); // its put window open for 18 s from now (closed only by close_put)

    outage.down = true;
    clock.advance(20_000); // 2 s past window 9's close by the wall clock; the head is 20 s old (stale after 15 s)
    const stalled = await captureLogs(tick);
    expect(stalled.result.chain).toEqual({
      error: "could not reach the chain for head: timed out after 10000 ms",
    });
    expect(stalled.result.weights).toEqual({ error: expect.stringMatching(/^waiting for the chain/) });
    expect(stalled.result).toMatchObject({ headStale: true, failed: [] });
    expect(events(stalled.lines, "chain.head_stale")).toEqual([
      expect.objectContaining({ level: "warn", block: 200, age_ms: expect.any(Number), stale_after_ms: 15_000 }),
    ]);
    // Not closed on a clock nobody confirmed: no block past the close has been seen.
    expect(await stateOf(9)).toBe("training");
    const again = await captureLogs(tick);
    expect(events(again.lines, "chain.head_stale")).toEqual([]); // once, not per tick
    expect(await stateOf(9)).toBe("training");

    // The window clock answers from D1, flagged; the chain just failed, so it is not asked again.
    const refused = outage.refused;
    const res = await app.call("/v1/windows/current");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ block: 200, window: 10, head_stale: true });
    expect(outage.refused).toBe(refused);
    clock.advance(BLOCK_MS - 1000); // nor within one block time of the failure (the test's own time runs too)
    expect(await (await app.call("/v1/windows/current")).json()).toMatchObject({ block: 200, head_stale: true });
    expect(outage.refusedCalls.slice(refused)).toEqual([]);
    clock.advance(1000); // after it, it asks again, fails, and still answers
    expect(await (await app.call("/v1/windows/current")).json()).toMatchObject({ block: 200, head_stale: true });
    expect(outage.refused).toBeGreaterThan(refused);

    const status = (await (await app.call("/v1/status")).json()) as Record<string, unknown>;
    expect(status.chain_head).toMatchObject({ block: 200 });
    expect(status.chain).toMatchObject({
      head: { block: 200 },
      stale: true,
      stale_after_ms: 15_000,
      stale_for_ms: expect.any(Number),
      last_error: {
        message: "could not reach the chain for head: timed out after 10000 ms",
        at_ms: expect.any(Number),
      },
    });
    const page = await (await app.call("/")).text();
    expect(page).toContain('id="chain-stale"');

    // The chain is back with block 216 (+48 s: past the close at +18 s, and the clock is at +50 s):
    // the head is fresh, the window closes.
    outage.down = false;
    chain.headNumber = 216;
    const back = await captureLogs(tick);
    expect(back.result).toMatchObject({ headStale: false, failed: [] });
    expect(events(back.lines, "chain.head_fresh")).toHaveLength(1);
    expect(await stateOf(9)).not.toBe("training");
    expect(((await (await app.call("/v1/status")).json()) as { chain: { stale: boolean } }).chain.stale).toBe(false);
    expect(await (await app.call("/")).text()).not.toContain('id="chain-stale"');
  });

  it("answers /v1/windows/current from D1 within CLOCK_CHAIN_WAIT_MS when the node took the read and went silent", async () => {
    const app = testApp(outage.client, clock);
    await tick(); // block 200 recorded
    outage.down = true;
    outage.hung = true;
    clock.advance(BLOCK_MS); // the recorded head is a block time old: the clock asks the chain
    // The read never settles, so an answer at all shows the clock stopped waiting for it.
    const { res, settled } = await app.respond("/v1/windows/current");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ block: 200, window: 10, head_stale: true });
    expect(outage.refusedCalls).toEqual(["head"]); // it did ask the chain
    // The read goes on past the answer: when the deadline fails it, the failure is recorded.
    expect(await lastChainErrorAtMs(db)).toBeNull();
    outage.release();
    await settled();
    expect(await lastChainErrorAtMs(db)).toEqual(expect.any(Number));
  });

  it("answers /v1/windows/current with CHAIN_UNAVAILABLE only when no head was ever recorded", async () => {
    outage.down = true;
    const res = await testApp(outage.client, clock).call("/v1/windows/current");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "CHAIN_UNAVAILABLE" } });
  });
});
