/** GET /v1/windows/current: the chain head, its window, and the put windows around it. */
import { Hono } from "hono";
import type { AppEnv } from "../app.ts";
import { openingBlock, windowOfBlock } from "../clock/window-math.ts";
import { putWindowJson } from "../http/json.ts";

export const windowRoutes = new Hono<AppEnv>().get("/windows/current", async (c) => {
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
