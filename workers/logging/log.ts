/**
 * Structured logs of the Worker: one JSON object per line, `{ts, level, event, …ids, …fields}`,
 * so Workers Logs (and `wrangler tail --format json`) can filter by event, window, uid,
 * submission or lease. `event` is a stable dotted name (e.g. "upload.accepted"); `msg`, where
 * given, is the human-readable sentence.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

/** The ids a line carries where they are known; snake_case like the public API. */
export interface LogIds {
  readonly window?: number;
  readonly uid?: number;
  readonly submission_id?: number;
  readonly batch_id?: number;
  readonly lease_id?: number;
  readonly runner_id?: string;
  readonly weight_set_id?: number;
}

export type LogFields = LogIds & { readonly msg?: string } & Readonly<Record<string, unknown>>;

/** bigint is not JSON; an Error's fields are not enumerable. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** The JSON line of one log event (level and event first, then the fields as given). */
export function logLine(level: LogLevel, event: string, fields: LogFields = {}, atMs: number = Date.now()): string {
  return JSON.stringify({ ts: new Date(atMs).toISOString(), level, event, ...fields }, jsonValue);
}

/** Writes one log event (errors and warnings to the console's error and warn streams). */
export function logEvent(level: LogLevel, event: string, fields: LogFields = {}): void {
  const line = logLine(level, event, fields);
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** Shorthands of logEvent per level. */
export const log = {
  debug: (event: string, fields?: LogFields) => logEvent("debug", event, fields),
  info: (event: string, fields?: LogFields) => logEvent("info", event, fields),
  warn: (event: string, fields?: LogFields) => logEvent("warn", event, fields),
  error: (event: string, fields?: LogFields) => logEvent("error", event, fields),
};
