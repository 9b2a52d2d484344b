/**
 * Runner authentication: `Authorization: Bearer <token>`; D1 keeps only the token's SHA-256.
 */
import { and, eq } from "drizzle-orm";
import { runners } from "../../schema/db/index.ts";
import type { Database } from "../d1.ts";

export type RunnerRow = typeof runners.$inferSelect;

/** Hex SHA-256 of a runner token, as stored. */
export async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The enabled runner whose token the Authorization header carries, if any. */
export async function authenticatedRunner(
  db: Database,
  authorization: string | undefined | null,
): Promise<RunnerRow | undefined> {
  const token = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
  if (!token) return undefined;
  const hash = await tokenHash(token);
  return db
    .select()
    .from(runners)
    .where(and(eq(runners.tokenHash, hash), eq(runners.disabled, false)))
    .get();
}
