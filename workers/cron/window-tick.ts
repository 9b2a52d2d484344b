/**
 * One tick of the window clock (the cron handler; `npm start` also triggers it every few
 * seconds), in three phases:
 * 1. follow the chain: the head, the metagraph, the put windows whose opening block now exists,
 *    the seed blocks of closed put windows;
 * 2. advance windows on what D1 holds: close put windows, queue fingerprints and run copy
 *    detection, dispatch evaluation batches, expire leases, complete evaluated windows, score
 *    them, re-queue lost validations (at once on a fresh isolate's first tick: redelivery.ts);
 * 3. take the next weight set one step further on its way to the chain.
 * An unreachable chain (a call past CHAIN_CALL_TIMEOUT_MS) stops phases 1 and 3 only: evaluation
 * and scoring go on, and put windows close only on a recorded head past their close. Every step
 * runs whatever the others did: one that fails (any error) is logged and reported in `failed`.
 */
import { and, eq, isNotNull, isNull, lt, lte, max } from "drizzle-orm";
import { submissions, windows } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import { openingBlock, windowOfBlock } from "../../schema/windows/window-math.ts";
import type { BlockRef, ChainClient } from "../chain/chain-client.ts";
import { noteHeadFreshness, recordChainError } from "../clock/head-freshness.ts";
import { fromChain } from "../clock/window-clock.ts";
import type { WorkerContext } from "../context.ts";
import { detectWindowCopies } from "../copies/detect-window-copies.ts";
import { dispatchValidatedWindows } from "../evaluation/dispatch.ts";
import { completeWindowIfDone } from "../evaluation/results.ts";
import { expireLeases } from "../leases/job-leases.ts";
import { log } from "../logging/log.ts";
import { syncMetagraph } from "../metagraph/metagraph.ts";
import { type ScoredWindow, scoreEvaluatedWindows } from "../scoring/window-scoring.ts";
import type { ValidationMessage } from "../validation/messages.ts";
import { takeRestartCutoff } from "../validation/redelivery.ts";
import { advanceWeights, type WeightsReport } from "../weights/weight-submission.ts";
import { tryTransition, windowsReadyFor } from "../windows/window-lifecycle.ts";

/** How many windows back a tick looks for put windows it has not recorded. */
const LOOKBACK_WINDOWS = 8;
/** A submission still "received" after this long has lost its validation message (the periodic sweep). */
const LOST_VALIDATION_MS = 60_000;
/** Queue.sendBatch takes at most 100 messages. */
const SEND_BATCH = 100;

export interface ChainReport {
  readonly head: BlockRef;
  readonly neurons: number;
  readonly putWindowsRecorded: readonly number[];
  readonly seedBlocks: readonly { window: number; block: number }[];
}

export interface TickReport {
  /** What phase 1 read, or why it could not. */
  readonly chain: ChainReport | { readonly error: string };
  readonly fingerprintsQueued: number;
  readonly copyChecks: readonly { window: number; flags: number }[];
  readonly dispatched: readonly { window: number; batches: number }[];
  readonly leasesExpired: number;
  readonly windowsEvaluated: readonly number[];
  readonly windowsScored: readonly ScoredWindow[];
  readonly validationsRequeued: number;
  /** What the weights step did, or why the chain stopped it. */
  readonly weights: WeightsReport | { readonly error: string };
  /** Whether the recorded head is stale (null: none recorded yet). */
  readonly headStale: boolean | null;
  /** The steps that failed this tick, with their error's message; the others ran. */
  readonly failed: readonly { readonly step: string; readonly error: string }[];
}

/** The first block whose timestamp is past `deadlineMs`, searching (lo, head]; null if none yet. */
export async function firstBlockAfter(
  chain: ChainClient,
  deadlineMs: number,
  lo: number,
  head: BlockRef,
): Promise<BlockRef | null> {
  if (head.timestampMs <= deadlineMs) return null;
  let hi = head.number;
  let found: BlockRef = head;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const block = await chain.block(mid);
    if (block && block.timestampMs > deadlineMs) {
      hi = mid;
      found = block;
    } else {
      lo = mid + 1;
    }
  }
  return found; // the loop keeps `found` at block `hi`, and ends with lo === hi
}

/** Phase 1: what the chain says about the head, the metagraph, put windows and seed blocks. */
export async function followChain(ctx: WorkerContext): Promise<ChainReport> {
  const { hparams, netuid } = ctx.config;
  const w = hparams.window;
  const chain = ctx.chain();
  const head = await fromChain("the head", () => chain.head());
  await ctx.clock.recordHead(head);
  const metagraph = await syncMetagraph(ctx.db, chain, netuid, ctx.now());

  const headWindow = windowOfBlock(head.number, w);
  const latest = await ctx.db
    .select({ w: max(windows.window) })
    .from(windows)
    .where(isNotNull(windows.putOpensAtMs))
    .get();
  // Window 0 is the first: a chain younger than two windows has no window −1 (whose opening block would be genesis).
  const from = Math.max(0, latest?.w == null ? headWindow - 2 : latest.w + 1, headWindow - LOOKBACK_WINDOWS);
  const recorded: number[] = [];
  for (let s = from; s < headWindow; s++) {
    const block = await fromChain(`block ${openingBlock(s, w)}`, () => chain.block(openingBlock(s, w)));
    if (block) {
      await ctx.clock.recordOpening(s, block);
      recorded.push(s);
    }
  }

  const seeds: { window: number; block: number }[] = [];
  const unseeded = await ctx.db
    .select()
    .from(windows)
    .where(
      and(isNull(windows.seedBlock), isNotNull(windows.putClosesAtMs), lt(windows.putClosesAtMs, head.timestampMs)),
    );
  for (const row of unseeded) {
    const closes = row.putClosesAtMs as number;
    const seed = await fromChain("a seed block", () =>
      firstBlockAfter(chain, closes, openingBlock(row.window, w), head),
    );
    if (!seed) continue;
    await ctx.db
      .update(windows)
      .set({
        seedBlock: seed.number,
        seedBlockHash: seed.hash,
        seedBlockAtMs: seed.timestampMs,
        updatedAtMs: ctx.now(),
      })
      .where(eq(windows.window, row.window));
    seeds.push({ window: row.window, block: seed.number });
  }
  return { head, neurons: metagraph.neurons.length, putWindowsRecorded: recorded, seedBlocks: seeds };
}

/** Runs `step`; an unreachable chain becomes `{ error }` (and the latest chain failure) instead of failing the tick. */
async function unlessChainDown<T>(ctx: WorkerContext, step: () => Promise<T>): Promise<T | { readonly error: string }> {
  try {
    return await step();
  } catch (e) {
    if (!(e instanceof EdgeError) || e.code !== "CHAIN_UNAVAILABLE") throw e;
    log.warn("chain.unavailable", { msg: e.message, error: e.cause });
    await recordChainError(ctx.db, e.message, ctx.now());
    return { error: e.message };
  }
}

/** Runs one tick. */
export async function windowTick(ctx: WorkerContext): Promise<TickReport> {
  const failed: { step: string; error: string }[] = [];
  /** Runs one step: its failure is logged and reported, and `fallback` stands for its result. */
  const step = async <T>(name: string, fallback: T, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      log.error("tick.step_failed", { step: name, msg: `tick step ${name} failed; the others go on`, error: e });
      failed.push({ step: name, error: e instanceof Error ? e.message : String(e) });
      return fallback;
    }
  };

  const chain = await step("follow_chain", { error: "failed" } as ChainReport | { error: string }, () =>
    unlessChainDown(ctx, () => followChain(ctx)),
  );
  const headStale = await step("head_freshness", null, async () => {
    const fresh = await noteHeadFreshness(ctx.db, ctx.config.hparams.window, ctx.now());
    return fresh === null ? null : fresh.stale;
  });

  // A window closes only on a head past its close (window-lifecycle.ts): never on a stale clock.
  await step("close_put", undefined, async () => {
    for (const window of await windowsReadyFor(ctx, "close_put")) await tryTransition(ctx, "close_put", window);
  });

  // Fingerprints and copy detection of closed windows whose seed is known, each on its own.
  let fingerprintsQueued = 0;
  const copyChecks: { window: number; flags: number }[] = [];
  const closed = await step("copy_detection", [], () =>
    ctx.db
      .select({ window: windows.window })
      .from(windows)
      .where(and(eq(windows.state, "put_closed"), isNotNull(windows.seedBlockHash))),
  );
  for (const { window } of closed) {
    await step(`copy_detection:${window}`, undefined, async () => {
      const check = await detectWindowCopies(ctx, window);
      if (check.state === "done") copyChecks.push({ window, flags: check.flags.length });
      else
        fingerprintsQueued += await sendAll(
          ctx,
          check.needFingerprint.map((submissionId) => ({ kind: "fingerprint", submissionId })),
        );
    });
  }

  const dispatched = await step("dispatch", [], () => dispatchValidatedWindows(ctx));
  const leasesExpired = await step("expire_leases", 0, () => expireLeases(ctx));
  const windowsEvaluated = await step("complete", [] as number[], async () => {
    const done: number[] = [];
    for (const window of await windowsReadyFor(ctx, "complete"))
      if (await completeWindowIfDone(ctx, window)) done.push(window);
    return done;
  });
  const windowsScored = await step("score", [], () => scoreEvaluatedWindows(ctx));
  const validationsRequeued = await step("requeue_validations", 0, () => requeueLostValidations(ctx));

  // Weights need the chain: when phase 1 could not reach it, they wait for the next tick rather
  // than spend another deadline on a node that just failed to answer.
  const weights =
    "error" in chain
      ? { error: `waiting for the chain: ${chain.error}` }
      : await step("weights", { error: "failed" } as WeightsReport | { error: string }, () =>
          unlessChainDown(ctx, () => advanceWeights(ctx)),
        );
  return {
    chain,
    fingerprintsQueued,
    copyChecks,
    dispatched,
    leasesExpired,
    windowsEvaluated,
    windowsScored,
    validationsRequeued,
    weights,
    headStale,
    failed,
  };
}

/**
 * Re-queues validations whose message may be lost: those still "received" LOST_VALIDATION_MS
 * after receipt and, on this isolate's first tick, every one received before the isolate started
 * (a message in flight when the Worker died is gone with it where the queue lives in memory, as in
 * `wrangler dev`). A duplicate message is harmless: a verdict is recorded only from "received".
 */
async function requeueLostValidations(ctx: WorkerContext): Promise<number> {
  const cutoff = Math.max(ctx.now() - LOST_VALIDATION_MS, takeRestartCutoff(ctx.now()) ?? Number.NEGATIVE_INFINITY);
  const lost = await ctx.db
    .select({ id: submissions.id })
    .from(submissions)
    .where(and(eq(submissions.status, "received"), lte(submissions.receivedAtMs, cutoff)));
  return sendAll(
    ctx,
    lost.map((s) => ({ kind: "validate", submissionId: s.id })),
  );
}

async function sendAll(ctx: WorkerContext, messages: ValidationMessage[]): Promise<number> {
  for (let i = 0; i < messages.length; i += SEND_BATCH) {
    await ctx.queue.sendBatch(messages.slice(i, i + SEND_BATCH).map((body) => ({ body })));
  }
  return messages.length;
}
