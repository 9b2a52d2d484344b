/**
 * Runner authentication: `Authorization: Bearer <token>`; D1 keeps only the token's SHA-256.
 */
import { and, eq, isNull, lt, or } from "drizzle-orm";
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

/** Below this gap a request does not rewrite the runner's last_seen_at_ms: one write a second at most. */
const SEEN_RESOLUTION_MS = 1000;

/** Records that a runner made a request at `nowMs` (its liveness in /v1/status). */
export async function markRunnerSeen(db: Database, runnerId: string, nowMs: number): Promise<void> {
  await db
    .update(runners)
    .set({ lastSeenAtMs: nowMs })
    .where(
      and(
        eq(runners.id, runnerId),
        or(isNull(runners.lastSeenAtMs), lt(runners.lastSeenAtMs, nowMs - SEEN_RESOLUTION_MS + 1)),
      ),
    )
    .run();
}
