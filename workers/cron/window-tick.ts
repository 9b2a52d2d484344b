/**
 * One tick of the window clock (the cron handler; `npm start` also triggers it every few
 * seconds): read the head, sync the metagraph, record the put windows whose opening block now
 * exists, move window states along, find seed blocks, queue fingerprints, run copy detection,
 * and re-queue validations whose message was lost.
 */
import { and, eq, inArray, isNotNull, isNull, lt, lte, max } from "drizzle-orm";
import { submissions, windows } from "../../schema/db/index.ts";
import type { BlockRef, ChainClient } from "../chain/chain-client.ts";
import { fromChain } from "../clock/window-clock.ts";
import { openingBlock, windowOfBlock } from "../clock/window-math.ts";
import type { WorkerContext } from "../context.ts";
import { detectWindowCopies } from "../copies/detect-window-copies.ts";
import { syncMetagraph } from "../metagraph/metagraph.ts";

/** How many windows back a tick looks for put windows it has not recorded. */
const LOOKBACK_WINDOWS = 8;
/** A submission still "received" after this long has lost its validation message. */
const LOST_VALIDATION_MS = 60_000;
/** Queue.sendBatch takes at most 100 messages. */
const SEND_BATCH = 100;

export interface TickReport {
  readonly head: BlockRef;
  readonly neurons: number;
  readonly putWindowsRecorded: readonly number[];
  readonly seedBlocks: readonly { window: number; block: number }[];
  readonly fingerprintsQueued: number;
  readonly copyChecks: readonly { window: number; flags: number }[];
  readonly validationsRequeued: number;
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

/** Runs one tick. */
export async function windowTick(ctx: WorkerContext): Promise<TickReport> {
  const { hparams, netuid } = ctx.config;
  const chain = ctx.chain();
  const head = await fromChain("the head", () => chain.head());
  await ctx.clock.recordHead(head);
  const metagraph = await syncMetagraph(ctx.db, chain, netuid, ctx.now());

  // Put windows whose opening block the chain has produced.
  const headWindow = windowOfBlock(head.number, hparams.window);
  const latest = await ctx.db
    .select({ w: max(windows.window) })
    .from(windows)
    .where(isNotNull(windows.putOpensAtMs))
    .get();
  const from = Math.max(latest?.w == null ? headWindow - 2 : latest.w + 1, headWindow - LOOKBACK_WINDOWS);
  const recorded: number[] = [];
  for (let s = from; s < headWindow; s++) {
    const block = await fromChain(`block ${openingBlock(s, hparams.window)}`, () =>
      chain.block(openingBlock(s, hparams.window)),
    );
    if (block) {
      await ctx.clock.recordOpening(s, block);
      recorded.push(s);
    }
  }

  const now = ctx.now();
  await ctx.db
    .update(windows)
    .set({ state: "put_closed", updatedAtMs: now })
    .where(and(inArray(windows.state, ["training", "put_open"]), lt(windows.putClosesAtMs, now)));

  // Seed blocks of closed put windows.
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
      firstBlockAfter(chain, closes, openingBlock(row.window, hparams.window), head),
    );
    if (!seed) continue;
    await ctx.db
      .update(windows)
      .set({ seedBlock: seed.number, seedBlockHash: seed.hash, seedBlockAtMs: seed.timestampMs, updatedAtMs: now })
      .where(eq(windows.window, row.window));
    seeds.push({ window: row.window, block: seed.number });
  }

  // Fingerprints and copy detection of windows whose seed is known.
  let fingerprintsQueued = 0;
  const copyChecks: { window: number; flags: number }[] = [];
  const closed = await ctx.db
    .select({ window: windows.window })
    .from(windows)
    .where(and(eq(windows.state, "put_closed"), isNotNull(windows.seedBlockHash)));
  for (const { window } of closed) {
    const check = await detectWindowCopies(ctx, window);
    if (check.state === "done") copyChecks.push({ window, flags: check.flags.length });
    else
      fingerprintsQueued += await sendAll(
        ctx,
        check.needFingerprint.map((submissionId) => ({ kind: "fingerprint", submissionId })),
      );
  }

  const lost = await ctx.db
    .select({ id: submissions.id })
    .from(submissions)
    .where(and(eq(submissions.status, "received"), lte(submissions.receivedAtMs, now - LOST_VALIDATION_MS)));
  const validationsRequeued = await sendAll(
    ctx,
    lost.map((s) => ({ kind: "validate", submissionId: s.id })),
  );

  return {
    head,
    neurons: metagraph.neurons.length,
    putWindowsRecorded: recorded,
    seedBlocks: seeds,
    fingerprintsQueued,
    copyChecks,
    validationsRequeued,
  };
}

async function sendAll(ctx: WorkerContext, messages: Parameters<WorkerContext["queue"]["send"]>[0][]): Promise<number> {
  for (let i = 0; i < messages.length; i += SEND_BATCH) {
    await ctx.queue.sendBatch(messages.slice(i, i + SEND_BATCH).map((body) => ({ body })));
  }
  return messages.length;
}
