/**
 * Hotkey → uid from the metagraph kept in D1, refreshed from the chain by the cron and, at most
 * once per `intake.metagraph_refresh_seconds`, on demand when an upload or a lookup
 * (GET /v1/hotkeys/{hotkey}) names an unknown hotkey: one shared limit, so neither costs a chain
 * call per request.
 */
import { eq, lte, notInArray } from "drizzle-orm";
import { neurons, refreshThrottle } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { ChainClient, Metagraph } from "../chain/chain-client.ts";
import { fromChain } from "../clock/window-clock.ts";
import type { WorkerContext } from "../context.ts";
import type { Database } from "../d1.ts";

const REFRESH = "metagraph";

/** Replaces D1's metagraph with one read from the chain. */
export async function storeMetagraph(db: Database, metagraph: Metagraph, nowMs: number): Promise<void> {
  const rows = metagraph.neurons.map((n) => ({
    uid: n.uid,
    hotkey: n.hotkey,
    coldkey: n.coldkey,
    stakeRao: n.stakeRao.toString(),
    validatorPermit: n.validatorPermit,
    registrationBlock: n.registrationBlock,
    lastSeenBlock: metagraph.block.number,
    lastSeenAtMs: nowMs,
  }));
  const uids = rows.map((r) => r.uid);
  const statements = [
    // uids no longer on the subnet are gone from the metagraph
    uids.length ? db.delete(neurons).where(notInArray(neurons.uid, uids)) : db.delete(neurons),
    ...rows.map((r) =>
      db
        .insert(neurons)
        .values(r)
        .onConflictDoUpdate({ target: neurons.uid, set: { ...r } }),
    ),
  ];
  await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
}

/** Reads the metagraph from the chain and stores it. */
export async function syncMetagraph(
  db: Database,
  chain: ChainClient,
  netuid: number,
  nowMs: number,
): Promise<Metagraph> {
  const metagraph = await fromChain("the metagraph", () => chain.metagraph(netuid));
  await storeMetagraph(db, metagraph, nowMs);
  return metagraph;
}

/**
 * Claims the on-demand refresh if the last one is at least `intervalMs` old: a single
 * conditional write, so concurrent requests cannot both win.
 */
export async function claimRefresh(db: Database, nowMs: number, intervalMs: number): Promise<boolean> {
  const claimed = await db
    .insert(refreshThrottle)
    .values({ name: REFRESH, lastAtMs: nowMs })
    .onConflictDoUpdate({
      target: refreshThrottle.name,
      set: { lastAtMs: nowMs },
      setWhere: lte(refreshThrottle.lastAtMs, nowMs - intervalMs),
    })
    .returning({ at: refreshThrottle.lastAtMs });
  return claimed.length === 1;
}

/**
 * The uid of a hotkey D1 does not know: one metagraph refresh if the rate limit allows, then a
 * lookup. Undefined means: not registered (as far as the validator can tell right now).
 */
export async function refreshForHotkey(
  db: Database,
  chain: () => ChainClient,
  netuid: number,
  hotkey: string,
  nowMs: number,
  refreshIntervalMs: number,
): Promise<number | undefined> {
  if (!(await claimRefresh(db, nowMs, refreshIntervalMs))) return undefined;
  const metagraph = await syncMetagraph(db, chain(), netuid, nowMs);
  return metagraph.neurons.find((n) => n.hotkey === hotkey)?.uid;
}

/** The uid D1's metagraph gives `hotkey` (ss58, prefix 42), if any. */
export async function storedUid(db: Database, hotkey: string): Promise<number | undefined> {
  const rows = await db.select({ uid: neurons.uid }).from(neurons).where(eq(neurons.hotkey, hotkey)).limit(1);
  return rows[0]?.uid;
}

/**
 * The uid of a hotkey D1 does not hold, by the request's context: refreshForHotkey with the
 * validator's netuid and `intake.metagraph_refresh_seconds`.
 */
export function refreshUid(ctx: WorkerContext, hotkey: string): Promise<number | undefined> {
  const { hparams, netuid } = ctx.config;
  return refreshForHotkey(
    ctx.db,
    ctx.chain,
    netuid,
    hotkey,
    ctx.now(),
    hparams.intake.metagraph_refresh_seconds * 1000,
  );
}

/** The uid `hotkey` holds: D1's metagraph, else at most one rate-limited refresh. */
export async function registeredUid(ctx: WorkerContext, hotkey: string): Promise<number | undefined> {
  return (await storedUid(ctx.db, hotkey)) ?? (await refreshUid(ctx, hotkey));
}

/** The uid `hotkey` holds on the validator's netuid; HOTKEY_UNREGISTERED when it holds none. */
export async function requireRegisteredUid(ctx: WorkerContext, hotkey: string): Promise<number> {
  const uid = await registeredUid(ctx, hotkey);
  if (uid === undefined)
    throw new EdgeError("HOTKEY_UNREGISTERED", `${hotkey} is not registered on netuid ${ctx.config.netuid}`);
  return uid;
}
