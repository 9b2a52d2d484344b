/**
 * Takes weight sets to the chain, one step per cron tick, so no step waits on a block:
 *
 *   pending ──set_weights──▶ submitted ──in a block──▶ set
 *      │                         └── refused / dropped ──▶ pending (backoff)
 *      └──commit_weights──▶ committing ──▶ committed ──reveal_weights──▶ revealing ──▶ set
 *                                              ▲ RevealTooEarly ─────────────┘
 *
 * The mode follows the subnet's commit-reveal setting when an attempt starts. A refusal never
 * loses a set: it returns to pending with its error recorded and waits (exponential backoff);
 * the rate limit is waited out without counting as a failure. Only the newest set is worth
 * sending: older pending sets are superseded once no set is in flight. Every step is an event.
 */
import { and, desc, eq, inArray, lt } from "drizzle-orm";
import { type WeightSetStatus, weightSetEvents, weightSets } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { HotkeySigner } from "../../schema/keys/hotkey-signer.ts";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import type { ExtrinsicOutcome, SubmittedTx, WeightsCall } from "../chain/chain-client.ts";
import { chainRefusal } from "../chain/chain-errors.ts";
import { commitHash, randomSalt } from "../chain/weights-commit.ts";
import type { WorkerContext } from "../context.ts";
import { log } from "../logging/log.ts";

type WeightSet = typeof weightSets.$inferSelect;

/** Blocks searched for a transaction per tick. */
const SEARCH_BLOCKS = 64;
/** A claimed attempt is retried after this long if the tick that claimed it died. */
const CLAIM_MS = 60_000;
const IN_FLIGHT: WeightSetStatus[] = ["submitted", "committing", "committed", "revealing"];
/** A reveal refused as too early for this many windows after its commit is given up as expired. */
const REVEAL_GIVE_UP_WINDOWS = 10;

function revealGiveUpMs(ctx: WorkerContext): number {
  const w = ctx.config.hparams.window;
  return REVEAL_GIVE_UP_WINDOWS * w.blocks_per_window * w.block_time_ms;
}

/** How long ago the set's current commit landed. */
async function committedForMs(ctx: WorkerContext, set: WeightSet): Promise<number> {
  const committed = await ctx.db
    .select({ atMs: weightSetEvents.atMs })
    .from(weightSetEvents)
    .where(and(eq(weightSetEvents.weightSetId, set.id), eq(weightSetEvents.event, "committed")))
    .orderBy(desc(weightSetEvents.id))
    .limit(1)
    .get();
  return committed ? ctx.now() - committed.atMs : 0;
}

export interface WeightsReport {
  /** The set this tick worked on, and where it stands now. */
  readonly weightSetId: number | null;
  readonly status: WeightSetStatus | null;
  readonly step: string;
}

/** How long the n-th consecutive failure waits: two blocks, doubling, at most a window. */
export function backoffMs(attempts: number, blockMs: number, windowMs: number): number {
  return Math.min(2 * blockMs * 2 ** Math.max(0, attempts - 1), windowMs);
}

/** Advances the weight set that is next in line by one step. */
export async function advanceWeights(ctx: WorkerContext): Promise<WeightsReport> {
  const set = await nextWeightSet(ctx);
  if (!set) return { weightSetId: null, status: null, step: "nothing to set" };
  const step =
    set.status === "pending" || set.status === "committed" ? await signingStep(ctx, set) : await followTx(ctx, set); // a transaction in flight needs no key to be found
  const now = await ctx.db
    .select({ status: weightSets.status })
    .from(weightSets)
    .where(eq(weightSets.id, set.id))
    .get();
  log.info("weights.step", { window: set.window, weight_set_id: set.id, status: now?.status ?? null, msg: step });
  return { weightSetId: set.id, status: now?.status ?? null, step };
}

/** The set in flight, else the newest pending one (older pending sets are superseded). */
async function nextWeightSet(ctx: WorkerContext): Promise<WeightSet | undefined> {
  const inFlight = await ctx.db
    .select()
    .from(weightSets)
    .where(inArray(weightSets.status, IN_FLIGHT))
    .orderBy(weightSets.id)
    .limit(1)
    .get();
  if (inFlight) return inFlight;
  const newest = await ctx.db
    .select()
    .from(weightSets)
    .where(eq(weightSets.status, "pending"))
    .orderBy(desc(weightSets.window))
    .limit(1)
    .get();
  if (!newest) return undefined;
  const older = await ctx.db
    .select({ id: weightSets.id })
    .from(weightSets)
    .where(and(eq(weightSets.status, "pending"), lt(weightSets.window, newest.window)));
  for (const { id } of older) {
    await transition(
      ctx,
      id,
      "pending",
      { status: "superseded" },
      {
        event: "superseded",
        message: `window ${newest.window}'s weights replace it`,
      },
    );
  }
  return newest;
}

/** The steps that sign: a new attempt from pending, a reveal from committed. */
async function signingStep(ctx: WorkerContext, set: WeightSet): Promise<string> {
  if (ctx.now() < set.nextAttemptAtMs)
    return set.status === "pending" ? "waiting for the next attempt" : "waiting to reveal";
  let signer: HotkeySigner;
  try {
    const secret = ctx.config.validatorHotkeySecret;
    if (!secret) throw new EdgeError("CONFIG_INVALID", "no VALIDATOR_HOTKEY_SECRET: weights stay pending");
    signer = hotkeySignerFromSecret(secret);
  } catch (e) {
    if (!(e instanceof EdgeError)) throw e;
    // Recorded once, not per tick: the operator has to act, and the set waits for it.
    if (set.lastErrorCode !== e.code) await fail(ctx, set, set.status, e);
    return "no usable validator hotkey";
  }
  if (!(await claim(ctx, set))) return "claimed by another tick";
  return set.status === "pending" ? startAttempt(ctx, set, signer) : reveal(ctx, set, signer);
}

/** Pushes the set's next attempt time forward so a concurrent tick leaves it alone. */
async function claim(ctx: WorkerContext, set: WeightSet): Promise<boolean> {
  const claimed = await ctx.db
    .update(weightSets)
    .set({ nextAttemptAtMs: ctx.now() + CLAIM_MS })
    .where(
      and(
        eq(weightSets.id, set.id),
        eq(weightSets.status, set.status),
        eq(weightSets.nextAttemptAtMs, set.nextAttemptAtMs),
      ),
    )
    .returning({ id: weightSets.id });
  return claimed.length === 1;
}

function callOf(set: WeightSet): WeightsCall {
  return { netuid: set.netuid, uids: set.uids, values: set.values, versionKey: BigInt(set.versionKey) };
}

/** Checks what the chain allows, then sends set_weights or commit_weights. */
async function startAttempt(ctx: WorkerContext, set: WeightSet, signer: HotkeySigner): Promise<string> {
  const chain = ctx.chain();
  const call = callOf(set);
  try {
    const state = await chain.weightsState(set.netuid, signer.address);
    if (state.uid === null)
      throw new EdgeError("VALIDATOR_NOT_REGISTERED", `${signer.address} is not registered on netuid ${set.netuid}`);
    if (call.versionKey < state.versionKey)
      throw new EdgeError(
        "WEIGHTS_VERSION_KEY_LOW",
        `version_key ${call.versionKey} is below the subnet's WeightsVersionKey ${state.versionKey}`,
      );
    if (state.stakeRao < state.minStakeRao)
      throw new EdgeError(
        "VALIDATOR_STAKE_LOW",
        `stake ${state.stakeRao} rao is below the ${state.minStakeRao} rao needed to set weights`,
      );
    if (state.commitRevealEnabled) {
      const salt = randomSalt();
      const hash = commitHash(signer.address, { ...call, salt });
      const tx = await chain.submitCommitWeights(signer, set.netuid, hash);
      await inFlight(ctx, set, "committing", tx, { mode: "commit_reveal", commitHash: hash, salt });
      return `commit ${hash} submitted`;
    }
    const last = state.lastUpdateBlock ?? 0;
    const waitBlocks = last > 0 ? last + state.rateLimitBlocks - state.block.number : 0;
    if (waitBlocks > 0) {
      // Not a failure: the rate limit says when.
      const at = ctx.now() + waitBlocks * ctx.config.hparams.window.block_time_ms;
      await transition(
        ctx,
        set.id,
        "pending",
        { nextAttemptAtMs: at },
        {
          event: "rate_limited",
          block: state.block.number,
          message: `the subnet's rate limit allows weights ${waitBlocks} blocks from now`,
        },
      );
      return `rate limited for ${waitBlocks} blocks`;
    }
    const tx = await chain.submitSetWeights(signer, call);
    await inFlight(ctx, set, "submitted", tx, { mode: "direct", commitHash: null, salt: null });
    return "set_weights submitted";
  } catch (e) {
    if (!(e instanceof EdgeError)) throw e;
    await fail(ctx, set, "pending", e);
    return `refused: ${e.code}`;
  }
}

async function reveal(ctx: WorkerContext, set: WeightSet, signer: HotkeySigner): Promise<string> {
  try {
    const tx = await ctx.chain().submitRevealWeights(signer, { ...callOf(set), salt: set.salt ?? [] });
    await inFlight(ctx, set, "revealing", tx, {});
    return "reveal submitted";
  } catch (e) {
    if (!(e instanceof EdgeError)) throw e;
    return afterRevealRefusal(ctx, set, e);
  }
}

/**
 * RevealTooEarly waits a block; an expired commit starts over; anything else is a failed attempt.
 * Spec 425's pool says "not in the reveal range" (REVEAL_NOT_IN_RANGE) for both early and expired,
 * so it is read as early, and a commit still "too early" after REVEAL_GIVE_UP_WINDOWS windows is
 * taken as expired.
 */
async function afterRevealRefusal(ctx: WorkerContext, set: WeightSet, e: EdgeError): Promise<string> {
  const early = (err: EdgeError) => err.code === "REVEAL_TOO_EARLY" || err.code === "REVEAL_NOT_IN_RANGE";
  if (early(e) && (await committedForMs(ctx, set)) > revealGiveUpMs(ctx)) {
    e = new EdgeError(
      "REVEAL_EXPIRED",
      `${e.message}; still refused ${REVEAL_GIVE_UP_WINDOWS} windows after the commit`,
    );
  }
  if (early(e)) {
    await transition(
      ctx,
      set.id,
      set.status,
      {
        status: "committed",
        nextAttemptAtMs: ctx.now() + ctx.config.hparams.window.block_time_ms,
      },
      { event: "reveal_too_early", code: e.code, message: e.message },
    );
    return "too early to reveal";
  }
  await fail(ctx, set, e.code === "REVEAL_EXPIRED" ? "pending" : "committed", e);
  return `reveal refused: ${e.code}`;
}

/** Looks for the set's transaction in the blocks since it was submitted. */
async function followTx(ctx: WorkerContext, set: WeightSet): Promise<string> {
  const txHash = set.txHash as string;
  const from = (set.txSearchedToBlock ?? (set.txSubmittedBlock as number) - 1) + 1;
  const search = await ctx.chain().findExtrinsic(txHash, from, SEARCH_BLOCKS);
  if (search.outcome) return landed(ctx, set, search.outcome);
  if (search.searchedTo >= (set.txValidUntilBlock as number)) {
    const e = new EdgeError("TX_DROPPED", `transaction ${txHash} was not included by block ${set.txValidUntilBlock}`);
    await fail(ctx, set, set.status === "revealing" ? "committed" : "pending", e);
    return "dropped";
  }
  await ctx.db
    .update(weightSets)
    .set({ txSearchedToBlock: search.searchedTo })
    .where(and(eq(weightSets.id, set.id), eq(weightSets.txHash, txHash)));
  return `not in blocks ${from}…${search.searchedTo} yet`;
}

async function landed(ctx: WorkerContext, set: WeightSet, outcome: ExtrinsicOutcome): Promise<string> {
  const block = outcome.block;
  if (outcome.kind === "success") {
    if (set.status === "committing") {
      await transition(
        ctx,
        set.id,
        "committing",
        {
          status: "committed",
          commitBlock: block.number,
          nextAttemptAtMs: ctx.now(),
        },
        { event: "committed", txHash: set.txHash, block: block.number, message: `commit in block ${block.number}` },
      );
      return "committed";
    }
    await transition(
      ctx,
      set.id,
      set.status,
      {
        status: "set",
        setBlock: block.number,
        setBlockHash: block.hash,
        lastErrorCode: null,
        lastErrorMessage: null,
      },
      { event: "set", txHash: set.txHash, block: block.number, message: `weights on chain in block ${block.number}` },
    );
    return "set";
  }
  const e = chainRefusal(outcome.error);
  if (set.status === "revealing") return afterRevealRefusal(ctx, set, e);
  if (e.code === "COMMIT_REVEAL_ENABLED") {
    // The subnet turned commit-reveal on since the check: start over at once in that mode.
    await transition(
      ctx,
      set.id,
      set.status,
      { status: "pending", nextAttemptAtMs: ctx.now() },
      {
        event: "mode_changed",
        txHash: set.txHash,
        block: block.number,
        code: e.code,
        message: e.message,
      },
    );
    return "commit-reveal is on: starting over";
  }
  await fail(ctx, set, "pending", e, block.number);
  return `refused in block ${block.number}: ${e.code}`;
}

async function inFlight(
  ctx: WorkerContext,
  set: WeightSet,
  status: WeightSetStatus,
  tx: SubmittedTx,
  extra: Partial<WeightSet>,
): Promise<void> {
  await transition(
    ctx,
    set.id,
    set.status,
    {
      ...extra,
      status,
      txHash: tx.txHash,
      txNonce: tx.nonce,
      txSubmittedBlock: tx.atBlock,
      txValidUntilBlock: tx.validUntilBlock,
      txSearchedToBlock: null,
    },
    {
      event: status === "committing" ? "commit_submitted" : status === "revealing" ? "reveal_submitted" : "submitted",
      txHash: tx.txHash,
      block: tx.atBlock,
      message: `nonce ${tx.nonce}, valid until block ${tx.validUntilBlock}`,
    },
  );
}

/** A failed attempt: back to `to`, the error kept, the next try after a backoff. */
async function fail(
  ctx: WorkerContext,
  set: WeightSet,
  to: WeightSetStatus,
  e: EdgeError,
  block?: number,
): Promise<void> {
  const attempts = set.attempts + 1;
  const w = ctx.config.hparams.window;
  const wait = backoffMs(attempts, w.block_time_ms, w.blocks_per_window * w.block_time_ms);
  await transition(
    ctx,
    set.id,
    set.status,
    {
      status: to,
      attempts,
      nextAttemptAtMs: ctx.now() + wait,
      lastErrorCode: e.code,
      lastErrorMessage: e.message,
    },
    { event: "failed", txHash: set.txHash, block, code: e.code, message: `${e.message}; next attempt in ${wait} ms` },
  );
}

/** Updates the set if it is still in `from` and, if it was, records the event. */
async function transition(
  ctx: WorkerContext,
  id: number,
  from: WeightSetStatus,
  values: Partial<WeightSet>,
  event: { event: string; message: string; txHash?: string | null; block?: number; code?: string },
): Promise<void> {
  const now = ctx.now();
  const updated = await ctx.db
    .update(weightSets)
    .set({ ...values, updatedAtMs: now })
    .where(and(eq(weightSets.id, id), eq(weightSets.status, from)))
    .returning({ id: weightSets.id });
  if (updated.length === 0) return; // another tick moved it first
  await ctx.db.insert(weightSetEvents).values({
    weightSetId: id,
    atMs: now,
    event: event.event,
    txHash: event.txHash ?? null,
    block: event.block ?? null,
    code: event.code ?? null,
    message: event.message,
  });
}
