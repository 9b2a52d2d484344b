/**
 * How a client of the validator's API (a runner, a miner, `npm start`) rides out a fault: which
 * failures are worth another try, how long to wait between tries, and when to give up.
 *
 * A failure is transient when no answer came (the connection was refused or reset, the request
 * timed out) or when the answer is the server's own fault or a "later" (a 5xx code of the
 * catalog, RATE_LIMITED, or a non-catalog error page, e.g. a proxy's 502 during a redeploy).
 * Anything else is a verdict on the request itself: trying it again gets the same answer, so it
 * is never retried. docs/SPEC.md ("Retries") says the same to miners in other languages.
 */
import { EdgeError, type ErrorCode, isErrorCode } from "../errors.ts";

export interface Backoff {
  /** The first wait. */
  readonly initialMs: number;
  /** No wait is longer. */
  readonly maxMs: number;
  /** Each wait is this many times the previous one (before jitter). */
  readonly factor: number;
}

/** Half a second, doubling up to 10 s: a Worker redeploy or a runner restart takes seconds. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 10_000, factor: 2 };

/**
 * The wait before try `attempt + 1` (attempt 0 is the first retry): the exponential step with
 * "equal jitter", half fixed and half random, so many clients that failed together do not all
 * come back in the same instant.
 */
export function backoffDelayMs(attempt: number, policy: Backoff = DEFAULT_BACKOFF, random = Math.random): number {
  const step = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt));
  return step / 2 + (random() * step) / 2;
}

/**
 * Error codes of fetch (undici) and Node's sockets that mean no answer came. A pattern, not
 * string literals: they are the runtime's codes, not the catalog's (test/node/error-catalog.test.ts).
 */
const NETWORK_CODE =
  /^(?:ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|UND_ERR_(?:SOCKET|CONNECT_TIMEOUT|HEADERS_TIMEOUT|BODY_TIMEOUT|CLOSED))$/;

/** True if an error answer (its HTTP status and catalog code, if any) is worth another try. */
export function isTransientAnswer(status: number, code?: string): boolean {
  return status >= 500 || status === 429 || code === "RATE_LIMITED";
}

/** True if `e` is a failure worth another try (see the module's comment). */
export function isTransient(e: unknown): boolean {
  if (e instanceof EdgeError) return isTransientAnswer(e.status, e.code);
  if (!(e instanceof Error)) return false;
  if (e.name === "AbortError" || e.name === "TimeoutError") return true;
  // fetch's "TypeError: fetch failed" carries the socket's error as its cause.
  for (let err: unknown = e; err instanceof Error; err = err.cause) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODE.test(code)) return true;
    if (err instanceof TypeError && err.message === "fetch failed") return true;
  }
  return false;
}

export interface RetryOptions {
  /** Stop retrying once the wall clock passes this (ms since the epoch): the last failure is thrown. */
  readonly untilMs?: number;
  /** Stop retrying after this many tries in all (default: no limit but `untilMs`). */
  readonly maxTries?: number;
  readonly backoff?: Backoff;
  /** Which failures are retried (default `isTransient`). */
  readonly retryable?: (e: unknown) => boolean;
  /** Stops the waiting: the last failure is thrown. */
  readonly signal?: AbortSignal;
  /** Told of each failure that will be retried, and of the wait before the retry. */
  readonly onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
  /** The clock (tests). */
  readonly now?: () => number;
}

/** Waits `ms`, or less if `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs `op` until it succeeds, retrying transient failures with backoff; a failure that is not
 * retryable, or one that comes when the deadline, the try limit or the signal says stop, is thrown.
 * A wait never runs past `untilMs`.
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const now = opts.now ?? Date.now;
  const retryable = opts.retryable ?? isTransient;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      const tries = attempt + 1;
      if (!retryable(e) || opts.signal?.aborted || (opts.maxTries !== undefined && tries >= opts.maxTries)) throw e;
      const left = opts.untilMs === undefined ? Number.POSITIVE_INFINITY : opts.untilMs - now();
      if (left <= 0) throw e;
      const delayMs = Math.min(backoffDelayMs(attempt, opts.backoff), left);
      opts.onRetry?.(e, tries, delayMs);
      await sleep(delayMs, opts.signal);
      if (opts.signal?.aborted) throw e;
    }
  }
}

/**
 * The EdgeError of an error answer: the code its JSON body names, or, for a page without one
 * (a proxy's, the runtime's), the code its status means, so `isTransient` judges it the same.
 */
export async function answerError(res: Response, what: string): Promise<EdgeError> {
  const text = await res.text().catch(() => "");
  let error: { code?: string; message?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
  } catch {
    // not JSON
  }
  const named = error?.code ?? "";
  const byStatus: ErrorCode =
    res.status === 429
      ? "RATE_LIMITED"
      : res.status >= 500
        ? "INTERNAL"
        : res.status === 404
          ? "NOT_FOUND"
          : "BAD_REQUEST";
  return new EdgeError(
    isErrorCode(named) ? named : byStatus,
    `${what}: ${res.status} ${error?.message ?? text.slice(0, 200)}`,
  );
}
