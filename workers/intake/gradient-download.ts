/**
 * Gradient downloads, and the rule that gradients are private until their put window closes:
 * before then only runners (with their bearer token) may read one, so no miner can copy what it
 * cannot read.
 */
import { EdgeError } from "../../schema/errors.ts";
import type { WorkerContext } from "../context.ts";
import { authenticatedRunner, markRunnerSeen } from "../runners/runner-auth.ts";
import { requireSubmission } from "./submission-records.ts";

/** A submitted gradient's object and its signed SHA-256; NOT_FOUND, or UNAUTHORIZED while it is private. */
export async function readGradient(
  ctx: WorkerContext,
  window: number,
  uid: number,
  authorization: string | undefined,
): Promise<{ readonly object: R2ObjectBody; readonly sha256: string }> {
  const sub = await requireSubmission(ctx.db, window, uid);
  const put = await ctx.clock.putWindow(window);
  const closed = put !== null && ctx.now() > put.closesAtMs;
  if (!closed) {
    const runner = await authenticatedRunner(ctx.db, authorization);
    if (!runner)
      throw new EdgeError(
        "UNAUTHORIZED",
        `gradients of window ${window} are private until its put window closes; runners send a bearer token`,
      );
    await markRunnerSeen(ctx.db, runner.id, ctx.now());
  }
  const object = await ctx.gradients.get(sub.objectKey);
  if (!object) throw new EdgeError("NOT_FOUND", `the object of uid ${uid}'s window-${window} submission is gone`);
  return { object, sha256: sub.sha256 };
}
