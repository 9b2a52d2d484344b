/** Weight sets seeded straight into D1 for the weight-submission tests, and how to read them back. */
import { eq } from "drizzle-orm";
import { weightSetEvents, weightSets } from "../../../schema/db/index.ts";
import { db } from "./world.ts";

/** A pending weight set of `window` on `netuid`, due at `atMs`; weights are the values normalised. */
export function insertPendingSet(s: {
  window: number;
  netuid: number;
  uids: number[];
  values: number[];
  gather: number[];
  atMs: number;
}) {
  return db
    .insert(weightSets)
    .values({
      window: s.window,
      netuid: s.netuid,
      uids: s.uids,
      weights: s.values.map((v) => v / s.values.reduce((a, b) => a + b, 0)),
      values: s.values,
      gather: s.gather,
      reserve: [],
      versionKey: "0",
      status: "pending",
      attempts: 0,
      nextAttemptAtMs: s.atMs,
      createdAtMs: s.atMs,
      updatedAtMs: s.atMs,
    })
    .returning()
    .get();
}

/** The weight set's row as it stands. */
export const weightSetOf = (id: number) => db.select().from(weightSets).where(eq(weightSets.id, id)).get();

/** The names of the set's events, oldest first. */
export const weightSetEventNames = async (id: number) =>
  (await db.select().from(weightSetEvents).where(eq(weightSetEvents.weightSetId, id)).orderBy(weightSetEvents.id)).map(
    (e) => e.event,
  );
