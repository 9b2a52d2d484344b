/**
 * The current window as miners see it (GET /v1/windows/current): the chain head, its window,
 * the put window that opened with it, when the next one opens, and the θ to train from.
 */
import type { z } from "zod";
import type { currentWindowResponse } from "../../schema/api/responses.ts";
import { openingBlock, windowOfBlock } from "../../schema/windows/window-math.ts";
import type { WorkerContext } from "../context.ts";
import { baseCheckpoint } from "../evaluation/work-order.ts";
import { putWindowJson } from "../http/json.ts";

/**
 * The current window, from the head the clock knows (read from the chain when a block time old;
 * the head D1 recorded, flagged `head_stale`, when the chain does not answer in time).
 */
export async function currentWindow(ctx: WorkerContext): Promise<z.output<typeof currentWindowResponse>> {
  const { hparams, netuid } = ctx.config;
  const w = hparams.window;
  const { head, stale } = await ctx.clock.headOrRecorded();
  const window = windowOfBlock(head.number, w);
  // The opening block of the previous window's put window is the current window's first block;
  // window 0 has none (block 0, genesis, carries no timestamp inherent to read).
  const put = window > 0 ? await ctx.clock.putWindow(window - 1) : null;
  const next = openingBlock(window, w);
  const checkpoint = await baseCheckpoint(ctx, window);
  return {
    netuid,
    block: head.number,
    block_at_ms: head.timestampMs,
    head_stale: stale,
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
  };
}
