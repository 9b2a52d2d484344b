/**
 * The validator's world for workerd tests: the app over the real bindings (D1, R2, the queue),
 * a fake chain, a clock the test can move, put windows and a metagraph seeded as the clock and
 * the cron record them, and a published model manifest. Every test starts from the empty,
 * migrated world (setup/apply-migrations.ts) and seeds what it needs with these.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { windows } from "../../../schema/db/index.ts";
import { MODEL_MANIFEST_KEY } from "../../../schema/model/keys.ts";
import type { ModelManifest } from "../../../schema/model/manifest.ts";
import { createApp } from "../../../workers/app.ts";
import { database } from "../../../workers/d1.ts";
import { storeMetagraph } from "../../../workers/metagraph/metagraph.ts";
import { TEST_MANIFEST } from "../../shared/fixtures/gradients.ts";
import { FakeChain } from "./fake-chain.ts";
import { type Miner, neuronOf } from "./miners.ts";

export const db = database(env.DB);
export const BPW = 20; // the local profile's blocks_per_window

/** Publishes the model manifest the validation consumer checks against. */
export async function publishManifest(manifest: ModelManifest = TEST_MANIFEST): Promise<void> {
  await env.ARTIFACTS.put(MODEL_MANIFEST_KEY, JSON.stringify(manifest));
}

/** Records the metagraph the cron would have synced. */
export async function registerMiners(miners: readonly Miner[], chain?: FakeChain): Promise<void> {
  const neurons = miners.map(neuronOf);
  if (chain) chain.neurons = neurons;
  await storeMetagraph(db, { block: { number: 1, hash: "0x01", timestampMs: Date.now() }, neurons }, Date.now());
}

/** Records the put window of a window, relative to now (real time, where a testClock starts), as the window clock would. */
export async function recordPutWindow(window: number, opensInMs: number, closesInMs: number): Promise<void> {
  const now = Date.now();
  await db
    .insert(windows)
    .values({
      window,
      startBlock: window * BPW,
      endBlock: (window + 1) * BPW - 1,
      putOpensAtMs: now + opensInMs,
      putClosesAtMs: now + closesInMs,
      state: opensInMs <= 0 ? "put_open" : "training",
      updatedAtMs: now,
    })
    .onConflictDoUpdate({
      target: windows.window,
      set: { putOpensAtMs: now + opensInMs, putClosesAtMs: now + closesInMs },
    });
}

/** A fake chain whose head is just past the opening block of `window`'s put window, opened `agoMs` ago. */
export function chainAtPutWindow(window: number, agoMs = 2000): FakeChain {
  const opening = (window + 1) * BPW;
  return new FakeChain({ headNumber: opening + 1, anchor: { number: opening, atMs: Date.now() - agoMs } });
}

/**
 * The app's clock in a test: real time plus however far the test has moved it on, so that what
 * the app measures against `ctx.now()` (lease expiry, the recorded head's age, put windows, the
 * metagraph refresh interval) can be made to pass without waiting or editing rows. Give the same
 * clock to testApp and to any workerContext the test builds. The queue consumer (real queue
 * delivery) runs on the Worker's own clock, Date.now, which no test can move.
 */
export interface TestClock {
  readonly now: () => number;
  /** Moves the clock `ms` on. */
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}

/**
 * The app over the real bindings with a fake chain, and the test's clock if it has one (real
 * time otherwise); `call` runs one request to completion, deferred work included.
 */
export function testApp(chain: FakeChain, clock?: Pick<TestClock, "now">) {
  const app = createApp({ chain: () => chain, now: clock?.now });
  return {
    async call(path: string, init?: RequestInit): Promise<Response> {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`http://edge${path}`, init), env, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    },
    /** One request's response, before the work it deferred (waitUntil) is done; `settled` waits for that. */
    async respond(path: string): Promise<{ res: Response; settled: () => Promise<void> }> {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`http://edge${path}`), env, ctx);
      return { res, settled: () => waitOnExecutionContext(ctx) };
    },
  };
}

/** Waits (through real queue delivery) until a submission has its verdict; returns the submission JSON. */
export async function verdictOf(
  app: ReturnType<typeof testApp>,
  window: number,
  uid: number,
): Promise<{ status: string; error: { code: string; message: string } | null } & Record<string, unknown>> {
  let last: { status: string; error: { code: string; message: string } | null } & Record<string, unknown> = {
    status: "none",
    error: null,
  };
  await vi.waitUntil(
    async () => {
      const res = await app.call(`/v1/submissions/${window}/${uid}`);
      last = ((await res.json()) as { submission: typeof last }).submission;
      return last.status !== "received";
    },
    { timeout: 20_000, interval: 100 },
  );
  return last;
}
