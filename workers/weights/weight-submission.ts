/**
 * Takes weight sets to the chain, one step per cron tick, so no step waits on a block:
 *
 *   pending ─┬─ direct: set_weights ─────────────▶ submitted ──in a block──▶ set
 *            ├─ hash-commit-reveal: commit_weights ▶ committing ──▶ committed ──reveal epoch: reveal_weights──▶ revealing ──▶ set
 *            │                                                        └── expired ──▶ pending (commit anew)
 *            └─ timelocked: commit_timelocked_weights ▶ committing ──▶ timelocked ──the chain reveals──▶ set ("revealed")
 *                                                                          └── bucket gone, no reveal ──▶ dropped
 *   refused / transaction dropped ──▶ pending (backoff)
 *
 * The mode is chosen from chain state for every attempt (weights-mode.ts): commit-reveal on or off,
 * whether the runtime has timelocked commits, the operator's preference. Every call that moves
 * LastUpdate waits out the rate limit first (rate-limit.ts); a hash reveal is sent only inside its
 * reveal epoch (hash-reveal-timing.ts), never blindly retried; a timelocked commit is encrypted to
 * the drand round of its reveal epoch (reveal-round.ts) and confirmed by the chain's reveal event.
 * A refusal never loses a set: it returns to pending with its error recorded and waits (exponential
 * backoff). Only a timelocked commit the chain dropped ends a set without weights (`dropped`): it is
 * recorded, and the next set goes on. Only the newest set is worth sending: older pending sets are
 * superseded once no set is in flight. Every step is an event.
 */
import { blake2b } from "@noble/hashes/blake2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { and, desc, eq, inArray, lt } from "drizzle-orm";
import { type WeightSetStatus, weightSetEvents, weightSets } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { HotkeySigner } from "../../schema/keys/hotkey-signer.ts";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { encryptCommit } from "../../schema/weights/timelock-commit.ts";
import { encodeWeightsTlockPayload } from "../../schema/weights/tlock-payload.ts";
import type { ExtrinsicOutcome, SubmittedTx, TimelockState, WeightsCall, WeightsState } from "../chain/chain-client.ts";
import { chainRefusal, submittedTx } from "../chain/chain-errors.ts";
import { weightsStakeRule } from "../chain/stake-rule.ts";
import { commitHash, randomSalt } from "../chain/weights-commit.ts";
import type { WorkerContext } from "../context.ts";
import { log } from "../logging/log.ts";
import { type CommitEpoch, hashRevealTiming } from "./hash-reveal-timing.ts";
import { commitAllowed } from "./rate-limit.ts";
import { timelockRevealRound } from "./reveal-round.ts";
import { chooseWeightsMode, type WeightsMode } from "./weights-mode.ts";

type WeightSet = typeof weightSets.$inferSelect;

/** Blocks searched for a transaction (or the chain's reveal) per tick. */
const SEARCH_BLOCKS = 64;
/** A claimed attempt is retried after this long if the tick that claimed it died. */
const CLAIM_MS = 60_000;
const IN_FLIGHT: WeightSetStatus[] = ["submitted", "committing", "committed", "revealing", "timelocked"];

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
    set.status === "pending" || set.status === "committed"
      ? await signingStep(ctx, set)
      : set.status === "timelocked"
        ? await followReveal(ctx, set)
        : await followTx(ctx, set); // a transaction in flight needs no key to be found
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

/**
 * The operator's mechanism id, if any: it picks the timelocked call's mechanism variant and the
 * LastUpdate read for the rate limit. set_weights and commit_weights have no mechanism argument
 * (they weight mechanism 0), so a mechanism id is meant for subnets on timelocked commits.
 */
function mecidOf(ctx: WorkerContext): number | undefined {
  return ctx.config.weightsMechanismId ?? undefined;
}

function blockMs(ctx: WorkerContext): number {
  return ctx.config.hparams.window.block_time_ms;
}

/**
 * The stake pre-check, refusing only what the chain would refuse (stake-rule.ts): alpha + TaoWeight ×
 * root against StakeThreshold, the subnet owner's hotkey exempt. Child-key inheritance is read only
 * as far as it can raise the stake: stake given to children is not deducted (the most generous
 * reading), and a hotkey with parents is not pre-checked at all (what it inherits is not read), so
 * the pool stays the final judge and the pre-check never refuses a validator the chain would accept.
 */
function stakeRefusal(state: WeightsState, hotkey: string): EdgeError | null {
  if (state.hasParentKeys) return null;
  const verdict = weightsStakeRule({
    alphaStake: state.stakeRao,
    rootStake: state.rootStakeRao,
    taoWeight: state.taoWeight,
    stakeThreshold: state.minStakeRao,
    hotkey,
    subnetOwnerHotkey: state.subnetOwnerHotkey,
    registered: state.uid !== null,
  });
  return verdict.allowed
    ? null
    : new EdgeError("VALIDATOR_STAKE_LOW", `${verdict.reason}: the chain refuses its weights`);
}

/** Reads the chain, chooses the mode, waits out the rate limit, then sends set_weights or a commit. */
async function startAttempt(ctx: WorkerContext, set: WeightSet, signer: HotkeySigner): Promise<string> {
  const chain = ctx.chain();
  const call = callOf(set);
  try {
    const [timelock, state] = await Promise.all([
      chain.timelockState(set.netuid, mecidOf(ctx)),
      chain.weightsState(set.netuid, signer.address, mecidOf(ctx)),
    ]);
    if (state.uid === null)
      throw new EdgeError("VALIDATOR_NOT_REGISTERED", `${signer.address} is not registered on netuid ${set.netuid}`);
    if (call.versionKey < state.versionKey)
      throw new EdgeError(
        "WEIGHTS_VERSION_KEY_LOW",
        `version_key ${call.versionKey} is below the subnet's WeightsVersionKey ${state.versionKey}`,
      );
    const stake = stakeRefusal(state, signer.address);
    if (stake) throw stake;
    const choice = chooseWeightsMode({
      commitRevealEnabled: state.commitRevealEnabled,
      timelockedCallAvailable: timelock.timelockedCallAvailable,
      preference: ctx.config.weightsMode,
    });
    if (choice.preferenceIgnored) log.warn("weights.mode", { weight_set_id: set.id, msg: choice.reason });
    const head = state.block.number;
    // set_weights and both commits move LastUpdate, so all three wait for the rate limit.
    const allowed = commitAllowed({
      head,
      rateLimitBlocks: state.rateLimitBlocks,
      lastUpdateBlock: state.lastUpdateBlock ?? 0,
    });
    if (!allowed.allowed) {
      const blocks = allowed.waitUntilBlock - head;
      await waitInPending(ctx, set, choice.mode, head, blocks, "rate_limited", {
        message: `the subnet's rate limit allows weights once the head reaches block ${allowed.waitUntilBlock}`,
      });
      return `rate limited for ${blocks} blocks`;
    }
    if (choice.mode === "timelocked") return await commitTimelocked(ctx, set, signer, timelock);
    if (choice.mode === "hash-commit-reveal") {
      const salt = randomSalt();
      const hash = commitHash(signer.address, { ...call, salt });
      const tx = await submitted(() => chain.submitCommitWeights(signer, set.netuid, hash));
      await inFlight(ctx, set, "committing", tx, { ...clearedCommit(), mode: choice.mode, commitHash: hash, salt });
      return `commit ${hash} submitted`;
    }
    const tx = await submitted(() => chain.submitSetWeights(signer, call));
    await inFlight(ctx, set, "submitted", tx, { ...clearedCommit(), mode: "direct" });
    return "set_weights submitted";
  } catch (e) {
    if (!(e instanceof EdgeError)) throw e;
    await fail(ctx, set, "pending", e);
    return `refused: ${e.code}`;
  }
}

/** What an earlier attempt may have left on the set that the new one must not inherit. */
function clearedCommit(): Partial<WeightSet> {
  return {
    commitHash: null,
    salt: null,
    commitBlock: null,
    revealRound: null,
    revealEpochStartBlock: null,
    commitEpoch: null,
    commitDigest: null,
    revealSearchedToBlock: null,
  };
}

/** Not a failure: the chain says when (the rate limit, or the next epoch for a timelocked commit). */
async function waitInPending(
  ctx: WorkerContext,
  set: WeightSet,
  mode: WeightsMode,
  head: number,
  blocks: number,
  event: string,
  { message }: { message: string },
): Promise<void> {
  await transition(
    ctx,
    set.id,
    "pending",
    { mode, nextAttemptAtMs: ctx.now() + Math.max(1, blocks) * blockMs(ctx) },
    { event, block: head, message },
  );
}

/**
 * Encrypts the weights to the drand round of their reveal epoch, with the signer's public key in the
 * payload (the chain checks it against the committer), and hands the commit to the pool.
 */
async function commitTimelocked(
  ctx: WorkerContext,
  set: WeightSet,
  signer: HotkeySigner,
  timelock: TimelockState,
): Promise<string> {
  const head = timelock.block.number;
  if (timelock.commitRevealVersion === null)
    throw new EdgeError(
      "COMMIT_REVEAL_VERSION_MISMATCH",
      "the runtime has no CommitRevealWeightsVersion to commit with",
    );
  const plan = timelockRevealRound({
    head,
    nowSeconds: ctx.now() / 1000,
    netuid: set.netuid,
    tempo: timelock.tempo,
    revealPeriodEpochs: timelock.revealPeriodEpochs,
    epochs: timelock.epochs,
    lastStoredRound: timelock.lastStoredRound ?? 0,
  });
  if (plan.kind === "wait") {
    // Sent now, the commit could land in the next epoch's bucket and be revealed a period late.
    await waitInPending(ctx, set, "timelocked", head, plan.waitUntilBlock - head, "epoch_wait", {
      message: `the next epoch starts at block ${plan.nextEpochStartBlock}: commit once the head reaches block ${plan.waitUntilBlock}`,
    });
    return `waiting for block ${plan.waitUntilBlock} to commit`;
  }
  const payload = encodeWeightsTlockPayload({
    hotkey: signer.publicKey,
    uids: set.uids,
    values: set.values,
    versionKey: BigInt(set.versionKey),
  });
  const commit = encryptCommit(payload, plan.revealRound);
  const commitHex = `0x${bytesToHex(commit)}`;
  const call = {
    netuid: set.netuid,
    mecid: mecidOf(ctx),
    commitHex,
    revealRound: plan.revealRound,
    commitRevealVersion: timelock.commitRevealVersion,
  };
  const tx = await submitted(() => ctx.chain().submitTimelockedCommit(signer, call));
  await inFlight(ctx, set, "committing", tx, {
    ...clearedCommit(),
    mode: "timelocked",
    revealRound: plan.revealRound,
    revealEpochStartBlock: plan.revealEpochStartBlock,
    // The chain names a commit by blake2-256 of its bytes (its event and its bucket).
    commitDigest: `0x${bytesToHex(blake2b(commit, { dkLen: 32 }))}`,
  });
  return `timelocked commit to drand round ${plan.revealRound} submitted (reveal epoch from block ${plan.revealEpochStartBlock})`;
}

/**
 * Sends the hash reveal only inside its reveal epoch, computed from chain state: too early waits
 * until the computed block, expired starts over with a new commit (the old one is lost).
 */
async function reveal(ctx: WorkerContext, set: WeightSet, signer: HotkeySigner): Promise<string> {
  const chain = ctx.chain();
  try {
    const [timelock, state] = await Promise.all([
      chain.timelockState(set.netuid),
      chain.weightsState(set.netuid, signer.address),
    ]);
    const head = state.block.number;
    const stored = state.hashCommits.find((c) => c.hash.toLowerCase() === (set.commitHash ?? "").toLowerCase());
    if (!stored)
      throw new EdgeError(
        "REVEAL_EXPIRED",
        `the chain no longer holds commit ${set.commitHash}: it expired unrevealed; committing anew`,
      );
    const commit = commitEpochOf(timelock, state, stored);
    const timing = hashRevealTiming({
      head,
      netuid: set.netuid,
      tempo: timelock.tempo,
      revealPeriodEpochs: timelock.revealPeriodEpochs,
      epochs: timelock.epochs,
      commit,
    });
    if (timing.kind === "expired")
      throw new EdgeError("REVEAL_EXPIRED", `the reveal epoch ${timing.revealEpoch} is over; committing anew`);
    if (timing.kind === "too-early") {
      const blocks = Math.max(1, timing.waitUntilBlock - head);
      await transition(
        ctx,
        set.id,
        "committed",
        { nextAttemptAtMs: ctx.now() + blocks * blockMs(ctx) },
        {
          event: "reveal_wait",
          block: head,
          message: `reveal epoch ${timing.revealEpoch}: reveal once the head reaches block ${timing.waitUntilBlock}`,
        },
      );
      return `waiting for block ${timing.waitUntilBlock} to reveal`;
    }
    const tx = await submitted(() => chain.submitRevealWeights(signer, { ...callOf(set), salt: set.salt ?? [] }));
    await inFlight(ctx, set, "revealing", tx, {});
    return `reveal submitted (reveal epoch ${timing.revealEpoch}, until block ${timing.lastBlock})`;
  } catch (e) {
    if (!(e instanceof EdgeError)) throw e;
    return afterRevealRefusal(ctx, set, e);
  }
}

/** The commit's place in the epoch count, in the form of the runtime's epoch model. */
function commitEpochOf(
  timelock: TimelockState,
  state: WeightsState,
  stored: WeightsState["hashCommits"][number],
): CommitEpoch {
  if (timelock.epochs.kind === "modulo") return { kind: "block", commitBlock: stored.commitBlock };
  if (stored.commitEpoch === null || state.subnetEpochIndex === null)
    // A runtime this code does not know: guessing an epoch could reveal too late and lose the commit.
    throw new Error("the runtime counts epochs by storage but stores no commit epoch or SubnetEpochIndex");
  return { kind: "epoch", commitEpoch: stored.commitEpoch, currentEpoch: state.subnetEpochIndex };
}

/**
 * An expired commit starts over; any other refusal keeps the commit and backs off, and the next
 * attempt computes the reveal epoch from chain state again (so "expired" is seen, not guessed).
 */
async function afterRevealRefusal(ctx: WorkerContext, set: WeightSet, e: EdgeError): Promise<string> {
  await fail(ctx, set, e.code === "REVEAL_EXPIRED" ? "pending" : "committed", e);
  return `reveal refused: ${e.code}`;
}

/**
 * Follows a timelocked commit on chain. The chain takes a commit out of its bucket
 * (TimelockedWeightCommits) when it reveals it, or when the reveal epoch ends without its pulse;
 * so while the commit is in its bucket nothing needs searching, and once it is gone only the
 * blocks since it was last seen there are searched for the TimelockedWeightsRevealed naming the
 * hotkey: found → set ("revealed"); none up to a head read after the bucket → dropped (no pulse in
 * time, or a silent reveal failure), recorded, and the next set goes on.
 */
async function followReveal(ctx: WorkerContext, set: WeightSet): Promise<string> {
  if (ctx.now() < set.nextAttemptAtMs) return "waiting for the reveal epoch";
  const secret = ctx.config.validatorHotkeySecret;
  // The reveal event names the hotkey: its address, not its key, is needed.
  let hotkey: string;
  try {
    if (!secret) throw new EdgeError("CONFIG_INVALID", "no VALIDATOR_HOTKEY_SECRET: the reveal cannot be looked for");
    hotkey = hotkeySignerFromSecret(secret).address;
  } catch (e) {
    if (!(e instanceof EdgeError)) throw e;
    return "no usable validator hotkey";
  }
  const chain = ctx.chain();
  const mecid = mecidOf(ctx);
  const before = (await chain.head()).number;
  const bucket = (await chain.timelockedCommits(set.netuid, mecid)).find((c) => c.commitHash === set.commitDigest);
  if (bucket) {
    // Still in its bucket at a head ≥ `before`: not revealed in any block up to `before`.
    const revealStart = set.revealEpochStartBlock ?? before + 1;
    const blocks = Math.max(1, revealStart - before);
    await transition(
      ctx,
      set.id,
      "timelocked",
      { commitEpoch: bucket.epoch, revealSearchedToBlock: before, nextAttemptAtMs: ctx.now() + blocks * blockMs(ctx) },
      set.commitEpoch === null
        ? {
            event: "commit_located",
            block: bucket.block,
            message: `the commit is in epoch ${bucket.epoch}'s bucket, drand round ${bucket.revealRound}`,
          }
        : null,
    );
    return before < revealStart
      ? `waiting ${blocks} blocks for the reveal epoch (block ${revealStart})`
      : `in its bucket at block ${before}: not revealed yet`;
  }
  const head = (await chain.head()).number;
  const from = (set.revealSearchedToBlock ?? (set.commitBlock as number)) + 1;
  const search = await chain.findTimelockedReveal({ netuid: set.netuid, mecid, hotkey }, from, SEARCH_BLOCKS);
  if (search.revealedAt) {
    const at = search.revealedAt;
    await transition(
      ctx,
      set.id,
      "timelocked",
      {
        status: "set",
        setBlock: at.number,
        setBlockHash: at.hash,
        revealSearchedToBlock: at.number,
        lastErrorCode: null,
        lastErrorMessage: null,
      },
      { event: "revealed", block: at.number, message: `the chain revealed the weights in block ${at.number}` },
    );
    return "revealed";
  }
  if (search.searchedTo >= head) {
    const e = new EdgeError(
      "WEIGHTS_REVEAL_DROPPED",
      `commit ${set.commitDigest} (drand round ${set.revealRound}) left the chain's buckets unrevealed by block ${head}`,
    );
    await transition(
      ctx,
      set.id,
      "timelocked",
      {
        status: "dropped",
        revealSearchedToBlock: search.searchedTo,
        lastErrorCode: e.code,
        lastErrorMessage: e.message,
      },
      { event: "dropped", block: head, code: e.code, message: e.message },
    );
    return "dropped by the chain";
  }
  await transition(ctx, set.id, "timelocked", { revealSearchedToBlock: search.searchedTo }, null);
  return `no reveal in blocks ${from}…${search.searchedTo} yet`;
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
    if (set.status === "committing" && set.mode === "timelocked") {
      const start = set.revealEpochStartBlock ?? block.number;
      await transition(
        ctx,
        set.id,
        "committing",
        {
          status: "timelocked",
          commitBlock: block.number,
          revealSearchedToBlock: null,
          nextAttemptAtMs: ctx.now() + Math.max(0, start - block.number) * blockMs(ctx),
        },
        {
          event: "committed",
          txHash: set.txHash,
          block: block.number,
          message: `timelocked commit in block ${block.number}; the chain reveals it with drand round ${set.revealRound} in the epoch from block ${start}`,
        },
      );
      return "timelocked commit on chain";
    }
    if (set.status === "committing") {
      // The reveal's timing is computed from chain state on the next tick.
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
  if (e.code === "COMMIT_REVEAL_ENABLED" || e.code === "COMMIT_REVEAL_DISABLED") {
    // The subnet toggled commit-reveal since the check: start over at once in the mode it asks for.
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
    return "commit-reveal was toggled: starting over";
  }
  await fail(ctx, set, "pending", e, block.number);
  return `refused in block ${block.number}: ${e.code}`;
}

/**
 * Sends a transaction. Where the node went silent after it was handed over (a deadline, a dropped
 * connection), it may be in the pool: it counts as submitted, so the search finds it in the blocks
 * or declares it dropped at the end of its era, and it is never sent twice.
 */
async function submitted(send: () => Promise<SubmittedTx>): Promise<SubmittedTx> {
  try {
    return await send();
  } catch (e) {
    const tx = submittedTx(e);
    if (!tx) throw e;
    log.warn("weights.submit_unconfirmed", {
      tx_hash: tx.txHash,
      msg: "the node went silent after the transaction was handed over: looking for it in the blocks",
      error: e,
    });
    return tx;
  }
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

/** Updates the set if it is still in `from` and, if it was, records the event (if any). */
async function transition(
  ctx: WorkerContext,
  id: number,
  from: WeightSetStatus,
  values: Partial<WeightSet>,
  event: { event: string; message: string; txHash?: string | null; block?: number; code?: string } | null,
): Promise<void> {
  const now = ctx.now();
  const updated = await ctx.db
    .update(weightSets)
    .set({ ...values, updatedAtMs: now })
    .where(and(eq(weightSets.id, id), eq(weightSets.status, from)))
    .returning({ id: weightSets.id });
  if (updated.length === 0 || event === null) return; // another tick moved it first, or nothing to record
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
