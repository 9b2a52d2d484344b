/**
 * What everyone may download, with ETags (a runner fetches a checkpoint once per window): the
 * model manifest, the dataset manifest and shards, each window's base checkpoint θ_S, the
 * aggregate of each outer step, and the recorded evaluations.
 */
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { dataFilePath, windowPath, windowUidPath } from "../../schema/api/request-params.ts";
import { DATA_MANIFEST_KEY } from "../../schema/data/dataset.ts";
import { evaluations } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import { aggregateKey, MODEL_MANIFEST_KEY } from "../../schema/model/keys.ts";
import type { AppEnv } from "../app.ts";
import { objectResponse } from "../artifacts.ts";
import { baseCheckpoint } from "../evaluation/work-order.ts";
import { evaluationJson } from "../http/json.ts";
import { parseRequest } from "../http/validate.ts";

export const artifactRoutes = new Hono<AppEnv>()
  .get("/model/manifest", (c) => objectResponse(c.env.ARTIFACTS, MODEL_MANIFEST_KEY, c.req.raw, "application/json"))
  .get("/data/manifest", (c) => objectResponse(c.env.ARTIFACTS, DATA_MANIFEST_KEY, c.req.raw, "application/json"))
  .get("/data/:file", (c) => {
    const { file } = parseRequest(dataFilePath, c.req.param(), () => "NOT_FOUND");
    return objectResponse(c.env.ARTIFACTS, `data/${file}`, c.req.raw);
  })
  .get("/checkpoints/:window", async (c) => {
    const base = await baseCheckpoint(c.get("ctx"), parseRequest(windowPath, c.req.param()).window);
    const res = await objectResponse(c.env.ARTIFACTS, base.key, c.req.raw);
    res.headers.set("X-Templar-Checkpoint-Window", String(base.window));
    return res;
  })
  .get("/aggregates/:window", (c) =>
    objectResponse(c.env.ARTIFACTS, aggregateKey(parseRequest(windowPath, c.req.param()).window), c.req.raw),
  )
  .get("/evaluations/:window/:uid", async (c) => {
    const { window, uid } = parseRequest(windowUidPath, c.req.param());
    const row = await c
      .get("ctx")
      .db.select()
      .from(evaluations)
      .where(and(eq(evaluations.window, window), eq(evaluations.uid, uid)))
      .get();
    if (!row) throw new EdgeError("NOT_FOUND", `no evaluation of uid ${uid} in window ${window}`);
    return c.json({ evaluation: evaluationJson(row) });
  });
