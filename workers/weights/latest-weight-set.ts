/** The newest weight set's vector, as the miner record and the dashboard read it. */
import { desc } from "drizzle-orm";
import { weightSets } from "../../schema/db/index.ts";
import type { Database } from "../d1.ts";

/** A query for the newest weight set (window, status, how it goes on chain, its vector), for use inside a batch. */
export function latestWeightSetQuery(db: Database) {
  return db
    .select({
      window: weightSets.window,
      status: weightSets.status,
      mode: weightSets.mode,
      revealRound: weightSets.revealRound,
      revealEpochStartBlock: weightSets.revealEpochStartBlock,
      setBlock: weightSets.setBlock,
      uids: weightSets.uids,
      weights: weightSets.weights,
    })
    .from(weightSets)
    .orderBy(desc(weightSets.window))
    .limit(1);
}
