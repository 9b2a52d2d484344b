/**
 * Which requests count against a per-client rate limit, and which limiter counts them. One rule
 * for the Worker (workers/http/rate-limit.ts enforces it) and for /openapi.json (documents
 * RATE_LIMITED on exactly these operations). Runner and admin routes carry a token of the
 * validator's own and the benchmark route is off in every deployment, so none of them is limited.
 */
/** The two limiters of wrangler.toml: uploads (PUT/POST by miners) and everything read. */
export type RateLimitClass = "upload" | "read";

/** The limiter that counts a request to `op`, or null where none does. */
export function rateLimitClass(op: {
  readonly auth?: string;
  readonly method: string;
  readonly tag: string;
}): RateLimitClass | null {
  if (op.auth !== undefined || op.tag === "benchmark") return null;
  return op.method === "get" ? "read" : "upload"; // HEAD is served, and counted, as GET
}

/** The limiters' period in seconds (wrangler.toml `simple.period`): what Retry-After says. */
export const RATE_LIMIT_PERIOD_S = 10;
