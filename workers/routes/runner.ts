/**
 * The runner API (docs/SPEC.md, "Runners"): lease a batch (an evaluation or an outer step),
 * renew it, give it back, upload an outer step's files, post its results. Every route needs a runner's bearer token. Wiring only: the logic is in evaluation/.
 */
import { Hono } from "hono";
import { leasePath } from "../../schema/api/request-params.ts";
import { advanceArtifactHeaders, advanceArtifactPath, releaseBody } from "../../schema/api/runner-requests.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";
import { batchOfLease, leaseBatch, releaseLease, renewLease } from "../evaluation/batches.ts";
import { recordResults } from "../evaluation/results.ts";
import { workOrder } from "../evaluation/work-order.ts";
import { headerObject, jsonBody, parseRequest } from "../http/validate.ts";
import { advanceOrder, recordAdvance, storeAdvanceArtifact } from "../model/model-advance.ts";
import { authenticatedRunner, type RunnerRow } from "../runners/runner-auth.ts";

type RunnerEnv = AppEnv & { Variables: AppEnv["Variables"] & { runner: RunnerRow } };

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
    return c.json(lease.kind === "advance" ? await advanceOrder(ctx, lease) : await workOrder(ctx, lease));
  })
  .post("/leases/:lease/heartbeat", async (c) => {
    const { lease } = parseRequest(leasePath, c.req.param());
    const expiresAtMs = await renewLease(c.get("ctx"), c.get("runner").id, lease);
    return c.json({ expires_at_ms: expiresAtMs });
  })
  .post("/leases/:lease/release", async (c) => {
    const { lease } = parseRequest(leasePath, c.req.param());
    const { error } = parseRequest(releaseBody, await jsonBody(c.req.raw));
    await releaseLease(c.get("ctx"), c.get("runner").id, lease, error);
    return c.json({ released: true });
  })
  .put("/leases/:lease/artifacts/:name", async (c) => {
    const { lease, name } = parseRequest(advanceArtifactPath, c.req.param(), (issue) =>
      issue.path[0] === "name" ? "NOT_FOUND" : "BAD_REQUEST",
    );
    const headers = headerObject(c.req.raw.headers, Object.keys(advanceArtifactHeaders.shape));
    const sha256 = parseRequest(advanceArtifactHeaders, headers)["X-Templar-Sha256"];
    const stored = await storeAdvanceArtifact(
      c.get("ctx"),
      c.get("runner").id,
      lease,
      name,
      sha256,
      await c.req.arrayBuffer(),
    );
    return c.json(stored, 201);
  })
  .post("/leases/:lease/results", async (c) => {
    const ctx = c.get("ctx");
    const runnerId = c.get("runner").id;
    const { lease } = parseRequest(leasePath, c.req.param());
    const body = await jsonBody(c.req.raw);
    const { kind } = await batchOfLease(ctx, runnerId, lease);
    return c.json(
      kind === "advance"
        ? await recordAdvance(ctx, runnerId, lease, body)
        : await recordResults(ctx, runnerId, lease, body),
    );
  });
