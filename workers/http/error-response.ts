/**
 * The one place where errors become HTTP responses: `{"error":{"code","message"}}` with the
 * status the catalog gives the code. Anything that is not an EdgeError is a fault of ours: it
 * is logged and answered as INTERNAL without leaking its message.
 */
import { HTTPException } from "hono/http-exception";
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";

export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly details?: Readonly<Record<string, unknown>>;
  };
}

/** Converts anything thrown into an EdgeError (non-EdgeErrors become INTERNAL or BAD_REQUEST). */
export function toEdgeError(err: unknown): EdgeError {
  if (err instanceof EdgeError) return err;
  // Hono raises HTTPException for malformed input it parses itself (e.g. a bad JSON body).
  if (err instanceof HTTPException && err.status < 500)
    return new EdgeError("BAD_REQUEST", err.message || "malformed request");
  console.error(
    JSON.stringify({ level: "error", msg: "unhandled error", error: String(err), stack: (err as Error)?.stack }),
  );
  return new EdgeError("INTERNAL", "internal error");
}

/** The JSON response for an error. */
export function errorResponse(err: unknown): Response {
  const e = toEdgeError(err);
  const body: ErrorBody = { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } };
  return Response.json(body, { status: e.status });
}
