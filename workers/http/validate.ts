/**
 * Requests are validated by the zod schemas of schema/api/ (the same ones /openapi.json is built
 * from); a failed parse becomes an EdgeError, BAD_REQUEST unless the caller names another code.
 */
import type { z } from "zod";
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";

/** Picks the error code of a failed parse from its first issue. */
export type IssueCode = (issue: z.core.$ZodIssue) => ErrorCode;

/** The first issue of a failed parse as one line: `path: message`. */
export function issueMessage(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p, i) => (typeof p === "number" ? `[${p}]` : i ? `.${String(p)}` : String(p))).join("");
  return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message;
}

/** `schema` applied to `input`; an EdgeError with the first issue's message if it does not fit. */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  input: unknown,
  codeOf: IssueCode = () => "BAD_REQUEST",
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  throw new EdgeError(codeOf(issue), issueMessage(issue));
}

/** The named headers of a request as an object (an empty header counts as absent). */
export function headerObject(headers: Headers, names: readonly string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((n) => [n, headers.get(n) || undefined]));
}

/** A request's JSON body; an empty body is `{}` (BAD_REQUEST when it is not JSON). */
export async function jsonBody(req: Request, hint = "the body is not JSON"): Promise<unknown> {
  const text = await req.text();
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new EdgeError("BAD_REQUEST", hint);
  }
}
