/** GET /v1/windows/current (the chain head, its window, the put windows around it) and /v1/windows/{window}. */
import { Hono } from "hono";
import { windowPath } from "../../schema/api/request-params.ts";
import type { AppEnv } from "../app.ts";
import { openingBlock, windowOfBlock } from "../clock/window-math.ts";
import { windowReport } from "../clock/window-report.ts";
import { baseCheckpoint } from "../evaluation/work-order.ts";
import { putWindowJson } from "../http/json.ts";
import { parseRequest } from "../http/validate.ts";

export const windowRoutes = new Hono<AppEnv>()
  .get("/windows/:window{[0-9]+}", async (c) =>
    c.json(await windowReport(c.get("ctx"), parseRequest(windowPath, c.req.param()).window)),
  )
  .get("/windows/current", async (c) => {
    const ctx = c.get("ctx");
    const { hparams, netuid } = ctx.config;
    const w = hparams.window;
    const head = await ctx.clock.head();
    const window = windowOfBlock(head.number, w);
    // The opening block of the previous window's put window is the current window's first block.
    const put = await ctx.clock.putWindow(window - 1);
    const next = openingBlock(window, w);
    const checkpoint = await baseCheckpoint(ctx, window);
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
      // θ of the current window once its outer step is published; an older one until then.
      checkpoint_window: checkpoint.window,
    });
  });
