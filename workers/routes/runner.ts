/**
 * The runner API (docs/SPEC.md, "Runners"): lease a batch, renew it, give it back, post its
 * results. Every route needs a runner's bearer token. Wiring only: the logic is in evaluation/.
 */
import { Hono } from "hono";
import { EdgeError } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";
import { leaseBatch, releaseLease, renewLease } from "../evaluation/batches.ts";
import { recordResults } from "../evaluation/results.ts";
import { workOrder } from "../evaluation/work-order.ts";
import { decimalParam } from "../http/params.ts";
import { authenticatedRunner, type RunnerRow } from "../runners/runner-auth.ts";

type RunnerEnv = AppEnv & { Variables: AppEnv["Variables"] & { runner: RunnerRow } };

async function jsonBody(req: Request): Promise<unknown> {
  const text = await req.text();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new EdgeError("BAD_REQUEST", "the body is not JSON");
  }
}

export const runnerRoutes = new Hono<RunnerEnv>()
  .use(async (c, next) => {
    const runner = await authenticatedRunner(c.get("ctx").db, c.req.header("Authorization"));
    if (!runner) throw new EdgeError("UNAUTHORIZED", "runner routes need `Authorization: Bearer <runner token>`");
    c.set("runner", runner);
    await next();
  })
  .post("/leases", async (c) => {
    const ctx = c.get("ctx");
    const lease = await leaseBatch(ctx, c.get("runner").id);
    if (!lease) return c.body(null, 204);
    return c.json(await workOrder(ctx, lease));
  })
  .post("/leases/:lease/heartbeat", async (c) => {
    const expiresAtMs = await renewLease(c.get("ctx"), c.get("runner").id, decimalParam(c.req.param("lease"), "lease"));
    return c.json({ expires_at_ms: expiresAtMs });
  })
  .post("/leases/:lease/release", async (c) => {
    const body = (await jsonBody(c.req.raw)) as { error?: { code?: unknown; message?: unknown } };
    const error = body.error && {
      code: String(body.error.code ?? "INTERNAL"),
      message: String(body.error.message ?? ""),
    };
    await releaseLease(c.get("ctx"), c.get("runner").id, decimalParam(c.req.param("lease"), "lease"), error);
    return c.json({ released: true });
  })
  .post("/leases/:lease/results", async (c) => {
    const lease = decimalParam(c.req.param("lease"), "lease");
    const outcome = await recordResults(c.get("ctx"), c.get("runner").id, lease, await jsonBody(c.req.raw));
    return c.json(outcome);
  });
