/**
 * The local chain's clock (docs/LOCAL_CHAIN.md §7): after the Instant-mode setup, the pacer
 * alone builds blocks, one per period on an absolute grid (start + k·T), and stamps each with the
 * wall clock at its tick, so block timestamps compare with wall-clock receipt times as on mainnet.
 *
 * Why travel before every block: chopsticks stamps a new block `parent Timestamp.Now + slot`,
 * whatever the wall clock says, so a single jump drifts by (T − slot) per block. Nothing else
 * may build blocks meanwhile (no `dev_newBlock` elsewhere): the pacer is what keeps time monotonic.
 *
 * A chain that stops answering (a stalled or overloaded chopsticks) does not stop the pacer: a
 * failed build is tried again at the next tick, and a watchdog says when no block has been built
 * for a while (`onStall`, repeated while it lasts) and when blocks come again (`onRecover`).
 */
import type { ApiPromise } from "@polkadot/api";
import { hexToU8a } from "@polkadot/util";
import { getHparams } from "../../schema/hparams.ts";

/** A block the pacer built. */
export interface PacedBlock {
  readonly number: number;
  readonly hash: string;
  /** The block's `timestamp.set` inherent: the wall clock when its tick ran. */
  readonly timestampMs: number;
  /** From the tick to the parent's restored state: reads, travel, build, restore. */
  readonly buildMs: number;
  /** timestampMs − the tick's grid time (start + k·T): how late the tick ran. */
  readonly driftMs: number;
}

export interface PacerOptions {
  /** Block period; default the local profile's window.block_time_ms (3000). */
  readonly periodMs?: number;
  /** Called after each block is built and its parent restored. */
  readonly onBlock?: (block: PacedBlock) => void;
  /** Called when no block has been built for `stallAfterMs`, then again every 5 × `stallAfterMs` while none is. */
  readonly onStall?: (stall: PacerStall) => void;
  /** Called at the first block after a stall was reported. */
  readonly onRecover?: (stall: PacerStall) => void;
  /** How long without a block is a stall (default 4 periods). */
  readonly stallAfterMs?: number;
}

/** A time without blocks. */
export interface PacerStall {
  /** Since the last block was built (or the pacer started). */
  readonly stalledMs: number;
  /** The last failed build's error, if a build failed (none while a build just hangs). */
  readonly error?: Error;
}

export interface Pacer {
  /** Stops after any build in flight (waiting at most two periods for one that hangs on a stalled chain). */
  stop(): Promise<void>;
  /** Blocks built so far. */
  readonly blocks: number;
}

/** The period `npm start` paces the local chain at: the local profile's expected block time. */
export const DEFAULT_PERIOD_MS = getHparams("local").window.block_time_ms;

/**
 * Switches chopsticks to Manual mode and starts building one block per `periodMs`, the first at
 * once. The chain stays in Manual mode after stop(): transactions then wait for the next block.
 */
export async function startPacer(api: ApiPromise, opts: PacerOptions = {}): Promise<Pacer> {
  const periodMs = opts.periodMs ?? DEFAULT_PERIOD_MS;
  if (!Number.isFinite(periodMs) || periodMs <= 0) throw new Error(`periodMs must be positive, not ${periodMs}`);
  // Manual: a transaction waits in the pool for the next tick (≤ T, as on mainnet) instead of
  // getting a block of its own, which would also carry chopsticks' parent + slot timestamp.
  await api.rpc("dev_setBlockBuildMode", "Manual");
  const slotMs = Number((await api.call.auraApi.slotDuration()).toString()); // 3000 on spec 218
  const keys = [api.query.timestamp.now.key(), api.query.aura.currentSlot.key()];

  /** Builds one block stamped `max(wall clock, parent + 1)` and leaves the parent's state as it was. */
  async function buildBlock(): Promise<Omit<PacedBlock, "buildMs" | "driftMs">> {
    const parent = await api.rpc.chain.getHeader();
    const parentHash = parent.hash.toHex();
    // Raw reads (api.rpc(method, …) bypasses @polkadot/rpc-core's per-(block, key) storage cache,
    // which would keep a value read while an earlier travel had rewritten it).
    const saved = (await Promise.all(keys.map((key) => api.rpc("state_getStorage", key, parentHash)))) as unknown as [
      string | null,
      string | null,
    ];
    const parentMs = saved[0] ? api.createType("u64", hexToU8a(saved[0])).toNumber() : 0; // SCALE: little-endian
    // A timestamp never goes backwards: the runtime would not object (the travel rewrites the
    // very values its checks compare with), so the pacer must keep time monotonic itself.
    const timestampMs = Math.max(Date.now(), parentMs + 1);
    // The next block is stamped `head Now + slot`, with Aura slot floor(head Now / slot) + 1, so
    // travelling the head to `timestampMs − slot` makes the inherent exactly timestampMs and
    // keeps timestamp and slot consistent (the travel also sets Aura.CurrentSlot).
    await api.rpc("dev_timeTravel", timestampMs - slotMs);
    const hash = String(await api.rpc("dev_newBlock", { count: 1 }));
    // The travel wrote into the parent's own state, in place: put its real values back so that
    // reads of Timestamp.Now at the parent stay true.
    await api.rpc(
      "dev_setStorage",
      keys.map((key, i) => [key, saved[i]]),
      parentHash,
    );
    return { number: parent.number.toNumber() + 1, hash, timestampMs };
  }

  const startMs = Date.now();
  const stallAfterMs = opts.stallAfterMs ?? 4 * periodMs;
  let stopped = false;
  let blocks = 0;
  let lastError: Error | undefined;
  let lastBlockAtMs = startMs;
  let stallReports = 0;
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const sleepUntil = (atMs: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, Math.max(0, atMs - Date.now()));
    });
  const stall = (): PacerStall => ({
    stalledMs: Date.now() - lastBlockAtMs,
    ...(lastError ? { error: lastError } : {}),
  });
  // A build can hang as long as the chain does, so the watchdog runs beside the loop.
  const watchdog = setInterval(
    () => {
      // Said at stallAfterMs, then every 5 × stallAfterMs while it lasts.
      if (Date.now() - lastBlockAtMs < (1 + 5 * stallReports) * stallAfterMs) return;
      stallReports++;
      opts.onStall?.(stall());
    },
    Math.min(periodMs, stallAfterMs),
  );

  const loop = (async () => {
    for (let k = 0; !stopped; ) {
      const tickMs = startMs + k * periodMs;
      await sleepUntil(tickMs);
      if (stopped) break;
      const startedMs = Date.now();
      try {
        const block = await buildBlock();
        blocks++;
        if (stallReports > 0) opts.onRecover?.(stall());
        lastBlockAtMs = Date.now();
        lastError = undefined;
        stallReports = 0;
        opts.onBlock?.({ ...block, buildMs: Date.now() - startedMs, driftMs: block.timestampMs - tickMs });
      } catch (e) {
        // Tried again at the next tick: a chain that answers again gets its blocks again.
        lastError = e instanceof Error ? e : new Error(String(e));
      }
      // Next grid point. A tick more than half a period late (a build overran, the process
      // stalled) is skipped, like an empty slot on mainnet, instead of being made up with blocks
      // a build time apart; a slightly late one is still built.
      k++;
      while (startMs + k * periodMs < Date.now() - periodMs / 2) k++;
    }
  })();

  return {
    get blocks() {
      return blocks;
    },
    async stop() {
      stopped = true;
      clearInterval(watchdog);
      clearTimeout(timer);
      wake?.();
      await Promise.race([loop, new Promise((r) => setTimeout(r, 2 * periodMs).unref())]);
    },
  };
}
