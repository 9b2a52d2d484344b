/**
 * The runner's log: one JSON object per line, `{ts, level, event, msg, …ids}`, the same shape as
 * the Worker's (workers/logging/log.ts), so a lease can be followed from the Worker's lines to
 * the runner's by lease_id, window and uid. `msg` keeps the human-readable sentence; the text
 * format prints only `ts msg` for a person at a terminal.
 */

export type RunnerLogLevel = "info" | "warn" | "error";

/** The ids and figures a runner line carries where they are known. */
export interface RunnerLogFields {
  readonly lease_id?: number;
  readonly window?: number;
  readonly uid?: number;
  readonly submission_id?: number;
  readonly kind?: "evaluate" | "advance";
  readonly code?: string;
  readonly [field: string]: unknown;
}

/** Logs one event: a stable dotted name, the human sentence, the fields. */
export type RunnerLog = (event: string, msg: string, fields?: RunnerLogFields, level?: RunnerLogLevel) => void;

export type RunnerLogFormat = "json" | "text";

/** The line of one event in `format`. */
export function runnerLogLine(
  format: RunnerLogFormat,
  event: string,
  msg: string,
  fields: RunnerLogFields = {},
  level: RunnerLogLevel = "info",
  atMs: number = Date.now(),
): string {
  const ts = new Date(atMs).toISOString();
  return format === "text" ? `${ts} ${msg}` : JSON.stringify({ ts, level, event, msg, ...fields });
}

/** A logger writing lines of `format` through `write` (stdout by default; errors to `writeError`). */
export function runnerLog(
  format: RunnerLogFormat,
  write: (line: string) => void = (line) => console.log(line),
  writeError: (line: string) => void = (line) => console.error(line),
): RunnerLog {
  return (event, msg, fields, level = "info") =>
    (level === "info" ? write : writeError)(runnerLogLine(format, event, msg, fields, level));
}
