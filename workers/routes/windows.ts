/** GET /v1/windows/current: the chain head, its window, and the put windows around it. */
import { count, eq } from "drizzle-orm";
import { Hono } from "hono";
import { submissions, windows } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";
import { openingBlock, windowOfBlock } from "../clock/window-math.ts";
import { putWindowJson } from "../http/json.ts";
import { decimalParam } from "../http/params.ts";

export const windowRoutes = new Hono<AppEnv>()
  .get("/windows/:window{[0-9]+}", async (c) => {
    const ctx = c.get("ctx");
    const window = decimalParam(c.req.param("window"), "window");
    const row = await ctx.db.select().from(windows).where(eq(windows.window, window)).get();
    if (!row) throw new EdgeError("NOT_FOUND", `the validator has no record of window ${window}`);
    const counts = await ctx.db
      .select({ status: submissions.status, n: count() })
      .from(submissions)
      .where(eq(submissions.window, window))
      .groupBy(submissions.status);
    return c.json({
      window,
      state: row.state,
      start_block: row.startBlock,
      end_block: row.endBlock,
      put_window:
        row.putOpensAtMs !== null && row.putClosesAtMs !== null
          ? putWindowJson({ window, opensAtMs: row.putOpensAtMs, closesAtMs: row.putClosesAtMs }, ctx.now())
          : null,
      seed_block:
        row.seedBlock === null ? null : { number: row.seedBlock, hash: row.seedBlockHash, at_ms: row.seedBlockAtMs },
      submissions: Object.fromEntries(counts.map((r) => [r.status, r.n])),
    });
  })
  .get("/windows/current", async (c) => {
    const ctx = c.get("ctx");
    const { hparams, netuid } = ctx.config;
    const w = hparams.window;
    const head = await ctx.clock.head();
    const window = windowOfBlock(head.number, w);
    // The opening block of the previous window's put window is the current window's first block.
    const put = await ctx.clock.putWindow(window - 1);
    const next = openingBlock(window, w);
    return c.json({
      netuid,
      block: head.number,
      block_at_ms: head.timestampMs,
      window,
      blocks_per_window: w.blocks_per_window,
      put_window: put && putWindowJson(put, ctx.now()),
      next_put_window: {
        window,
        opening_block: next,
        expected_opens_at_ms: head.timestampMs + (next - head.number) * w.block_time_ms,
      },
    });
  });
