/** The admin log (GET /v1/admin/actions): every operator action, newest first. */
import { desc } from "drizzle-orm";
import { adminActions } from "../../schema/db/index.ts";
import type { WorkerContext } from "../context.ts";

/** How many actions the log shows. */
export const ACTIONS_SHOWN = 50;

/** The newest admin actions as JSON. */
export async function adminLog(ctx: WorkerContext) {
  const rows = await ctx.db.select().from(adminActions).orderBy(desc(adminActions.id)).limit(ACTIONS_SHOWN);
  return rows.map((r) => ({
    id: r.id,
    action: r.action,
    window: r.window,
    reason: r.reason,
    details: r.details,
    at_ms: r.atMs,
  }));
}
