/** The D1 database through drizzle, and how its constraint failures read. */
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";

export type Database = DrizzleD1Database;

/** drizzle over the Worker's D1 binding. */
export function database(binding: D1Database): Database {
  return drizzle(binding);
}

/** The name of the UNIQUE constraint a failed insert hit (e.g. "submissions.window, submissions.uid"), if any. */
export function uniqueViolation(err: unknown): string | undefined {
  const text = String((err as { cause?: unknown })?.cause ?? err);
  return /UNIQUE constraint failed: ([^\s:]+(?:, [^\s:]+)*)/.exec(text)?.[1];
}
