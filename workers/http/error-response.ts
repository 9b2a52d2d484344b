/**
 * The one place where errors become HTTP responses: `{"error":{"code","message"}}` with the
 * status the catalog gives the code. Anything that is not an EdgeError is a fault of ours: it
 * is logged and answered as INTERNAL without leaking its message.
 */
import { HTTPException } from "hono/http-exception";
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";
import { log } from "../logging/log.ts";

export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly details?: Readonly<Record<string, unknown>>;
  };
}

/**
 * Converts anything thrown into an EdgeError (non-EdgeErrors become INTERNAL or BAD_REQUEST).
 * What an upstream said (an EdgeError's cause) and every unexpected fault go to the log only.
 */
export function toEdgeError(err: unknown): EdgeError {
  if (err instanceof EdgeError) {
    if (err.cause !== undefined) log.warn("upstream.failed", { code: err.code, msg: err.message, error: err.cause });
    return err;
  }
  // Hono raises HTTPException for malformed input it parses itself (e.g. a bad JSON body).
  if (err instanceof HTTPException && err.status < 500)
    return new EdgeError("BAD_REQUEST", err.message || "malformed request");
  log.error("request.failed", { msg: "unhandled error", error: err, stack: (err as Error)?.stack });
  return new EdgeError("INTERNAL", "internal error");
}

/** The JSON response for an error. */
export function errorResponse(err: unknown): Response {
  const e = toEdgeError(err);
  const body: ErrorBody = { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } };
  // A rate-limited client is told when to come back (RFC 9110 §10.2.3), in the header clients read.
  const retryAfter = e.code === "RATE_LIMITED" ? e.details?.retry_after_s : undefined;
  return Response.json(body, {
    status: e.status,
    ...(retryAfter !== undefined ? { headers: { "Retry-After": String(retryAfter) } } : {}),
  });
}
