/** The D1 database through drizzle, how its constraint failures read, and transactions that mix both APIs. */
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";

export type Database = DrizzleD1Database;

/** drizzle over the Worker's D1 binding. */
export function database(binding: D1Database): Database {
  return drizzle(binding);
}

export type ConstraintKind = "UNIQUE" | "NOT NULL" | "CHECK" | "FOREIGN KEY";

/** The constraint a failed statement hit, e.g. `{ kind: "UNIQUE", target: "submissions.window, submissions.uid" }`. */
export function constraintViolation(err: unknown): { kind: ConstraintKind; target: string } | undefined {
  const text = String((err as { cause?: unknown })?.cause ?? err);
  const m = /(UNIQUE|NOT NULL|CHECK|FOREIGN KEY) constraint failed(?:: ([^\s:,]+(?:, [^\s:,]+)*))?/.exec(text);
  return m ? { kind: m[1] as ConstraintKind, target: m[2] ?? "" } : undefined;
}

/** The name of the UNIQUE constraint a failed insert hit (e.g. "submissions.window, submissions.uid"), if any. */
export function uniqueViolation(err: unknown): string | undefined {
  const v = constraintViolation(err);
  return v?.kind === "UNIQUE" ? v.target : undefined;
}

/** A built drizzle query: its SQL and its parameters, already in D1's types. */
export interface SqlQuery {
  toSQL(): { sql: string; params: unknown[] };
}

/** A drizzle query as a D1 statement (what drizzle's own batch does), so one D1 batch can hold both kinds. */
export function d1Statement(d1: D1Database, query: SqlQuery): D1PreparedStatement {
  const { sql, params } = query.toSQL();
  return d1.prepare(sql).bind(...params);
}
