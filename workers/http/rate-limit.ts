/**
 * Per-client rate limits with Cloudflare's Rate Limiting binding (it runs in `wrangler dev` too).
 * The client is the address Cloudflare puts in CF-Connecting-IP, which a client cannot set at
 * the edge; locally, miniflare fills it from the socket unless the request already carries one.
 * Counting happens before any parsing, storage or chain call, so a refused request costs one
 * counter increment. Limits are per location and approximate, as the binding's are.
 */

import type { Operation } from "../../schema/api/openapi.ts";
import { RATE_LIMIT_PERIOD_S, rateLimitClass } from "../../schema/api/rate-limits.ts";
import { EdgeError } from "../../schema/errors.ts";

/** The two bindings of wrangler.toml; a deployment without them is not limited. */
export interface RateLimitBindings {
  readonly UPLOAD_LIMITER?: RateLimit;
  readonly READ_LIMITER?: RateLimit;
}

/** Counts the request against its client's limit; RATE_LIMITED (429) once the limit is spent. */
export async function enforceRateLimit(env: RateLimitBindings, op: Operation, headers: Headers): Promise<void> {
  const kind = rateLimitClass(op);
  const limiter = kind === "upload" ? env.UPLOAD_LIMITER : kind === "read" ? env.READ_LIMITER : undefined;
  if (!limiter) return;
  const client = headers.get("CF-Connecting-IP") ?? "unknown";
  const { success } = await limiter.limit({ key: `${kind}:${client}` });
  if (!success)
    throw new EdgeError(
      "RATE_LIMITED",
      `too many ${kind} requests from ${client}: wait ${RATE_LIMIT_PERIOD_S} s and slow down`,
      { retry_after_s: RATE_LIMIT_PERIOD_S },
    );
}
