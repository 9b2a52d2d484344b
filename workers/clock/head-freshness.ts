/**
 * Whether the chain head the validator recorded is stale, and what the chain last failed with.
 *
 * The rule: the recorded head is stale when its block's timestamp is more than
 * `window.stale_head_blocks` block times behind the Worker's clock. It covers a node that does not
 * answer (the head is no longer read) and one that answers but makes no blocks (the head read is
 * old). D1's `chain_health` remembers the last judgement so the log says `chain.head_stale` once
 * when the head turns stale and `chain.head_fresh` once when it recovers.
 */
import { eq, sql } from "drizzle-orm";
import { chainHead, chainHealth } from "../../schema/db/index.ts";
import type { WindowHparams } from "../../schema/hparams.ts";
import type { Database } from "../d1.ts";
import { log } from "../logging/log.ts";

export interface HeadFreshness {
  /** Worker clock minus the recorded head's block timestamp. */
  readonly age_ms: number;
  /** Age beyond which the head is stale: stale_head_blocks × block_time_ms. */
  readonly stale_after_ms: number;
  readonly stale: boolean;
  /** How long it has been stale (age past the threshold); null while fresh. */
  readonly stale_for_ms: number | null;
}

/** The chain's state for GET /v1/status and the dashboard. */
export interface ChainStatus {
  readonly head: { readonly block: number; readonly timestamp_ms: number; readonly seen_at_ms: number } | null;
  /** Freshness of `head`; a validator that never recorded a head has a stale one. */
  readonly stale: boolean;
  readonly age_ms: number | null;
  readonly stale_after_ms: number;
  readonly stale_for_ms: number | null;
  readonly last_error: { readonly message: string; readonly at_ms: number } | null;
}

/** The freshness of a head whose block was made at `timestampMs`, at `now`. */
export function headFreshness(timestampMs: number, now: number, w: WindowHparams): HeadFreshness {
  const age = now - timestampMs;
  const after = w.stale_head_blocks * w.block_time_ms;
  const stale = age > after;
  return { age_ms: age, stale_after_ms: after, stale, stale_for_ms: stale ? age - after : null };
}

/** The recorded head with its freshness, and the latest chain failure. */
export async function chainStatus(db: Database, w: WindowHparams, now: number): Promise<ChainStatus> {
  const [head, health] = await Promise.all([
    db.select().from(chainHead).where(eq(chainHead.id, 1)).get(),
    db.select().from(chainHealth).where(eq(chainHealth.id, 1)).get(),
  ]);
  const fresh = head && headFreshness(head.timestampMs, now, w);
  return {
    head: head ? { block: head.block, timestamp_ms: head.timestampMs, seen_at_ms: head.seenAtMs } : null,
    stale: fresh?.stale ?? true,
    age_ms: fresh?.age_ms ?? null,
    stale_after_ms: w.stale_head_blocks * w.block_time_ms,
    stale_for_ms: fresh?.stale_for_ms ?? null,
    last_error:
      health?.lastError != null && health.lastErrorAtMs != null
        ? { message: health.lastError, at_ms: health.lastErrorAtMs }
        : null,
  };
}

/** Records a chain failure (CHAIN_UNAVAILABLE's message) as the latest one. */
export async function recordChainError(db: Database, message: string, now: number): Promise<void> {
  const row = { id: 1, lastError: message, lastErrorAtMs: now };
  await db.insert(chainHealth).values(row).onConflictDoUpdate({ target: chainHealth.id, set: row });
}

/** When the chain last failed, if it did. */
export async function lastChainErrorAtMs(db: Database): Promise<number | null> {
  const row = await db.select({ at: chainHealth.lastErrorAtMs }).from(chainHealth).where(eq(chainHealth.id, 1)).get();
  return row?.at ?? null;
}

/**
 * Judges the recorded head and logs a change of judgement once: `chain.head_stale` (warn) when it
 * turns stale, `chain.head_fresh` (info) when it is fresh again. Returns the judgement, null if no
 * head was ever recorded.
 */
export async function noteHeadFreshness(db: Database, w: WindowHparams, now: number): Promise<HeadFreshness | null> {
  const head = await db.select().from(chainHead).where(eq(chainHead.id, 1)).get();
  if (!head) return null;
  const fresh = headFreshness(head.timestampMs, now, w);
  const stale = fresh.stale ? 1 : 0;
  await db.insert(chainHealth).values({ id: 1 }).onConflictDoNothing();
  // Compare-and-set: of two ticks that see the change, one logs it.
  const changed = await db
    .update(chainHealth)
    .set({ stale, changedAtMs: now })
    .where(sql`${chainHealth.id} = 1 AND ${chainHealth.stale} <> ${stale}`)
    .returning({ id: chainHealth.id });
  if (changed.length === 1) {
    const fields = { block: head.block, block_at_ms: head.timestampMs, age_ms: fresh.age_ms };
    if (fresh.stale)
      log.warn("chain.head_stale", {
        ...fields,
        stale_after_ms: fresh.stale_after_ms,
        msg: `no block newer than ${head.block} for ${fresh.age_ms} ms: windows stay open until the chain moves`,
      });
    else log.info("chain.head_fresh", { ...fields, msg: `the chain moves again at block ${head.block}` });
  }
  return fresh;
}
