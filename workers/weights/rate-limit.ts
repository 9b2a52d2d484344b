/**
 * The weights rate limit; pure, the caller reads the chain. A uid may set weights or commit
 * (`set_weights` with commit-reveal off, `commit_weights`, `commit_timelocked_weights`) only if it
 * never did (LastUpdate 0) or `block − LastUpdate[uid] ≥ WeightsSetRateLimit(netuid)` in the block
 * that includes the call (subtensor pallets/subtensor/src/subnets/weights.rs:1104-1125; the same
 * on spec 218). Each of those calls sets LastUpdate to its block; a reveal neither checks nor
 * moves it while commit-reveal is on (weights.rs:801-809, 851). Timelocked commits are checked only
 * in the block, never in the pool (subtensor pallets/subtensor/src/guards/check_rate_limits.rs:
 * 20-28), so a too-early one costs a failed transaction rather than a refusal: wait first.
 */

export interface RateLimitInput {
  /** The best block: a call sent now is included in head + 1 at the earliest. */
  readonly head: number;
  /** WeightsSetRateLimit(netuid). */
  readonly rateLimitBlocks: number;
  /** LastUpdate(netuid_index)[uid]: the block of the uid's last set or commit, 0 if never. */
  readonly lastUpdateBlock: number;
}

/** Allowed now, or not before the head reaches `waitUntilBlock`. */
export type CommitAllowed = { readonly allowed: true } | { readonly allowed: false; readonly waitUntilBlock: number };

/** Whether a set or commit sent at `head` passes the rate limit, and if not, the head to wait for. */
export function commitAllowed({ head, rateLimitBlocks, lastUpdateBlock }: RateLimitInput): CommitAllowed {
  for (const [name, n] of [
    ["head", head],
    ["WeightsSetRateLimit", rateLimitBlocks],
    ["LastUpdate", lastUpdateBlock],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} ${n} is not a block count`);
  }
  if (lastUpdateBlock === 0) return { allowed: true };
  const firstBlock = lastUpdateBlock + rateLimitBlocks;
  return head + 1 >= firstBlock ? { allowed: true } : { allowed: false, waitUntilBlock: firstBlock - 1 };
}
