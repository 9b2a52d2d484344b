/** Scores and weights: a window's lines, a uid's history, the weight vector and its way to the chain. */
import { Hono } from "hono";
import { historyQuery, uidPath, weightSetsQuery, windowPath } from "../../schema/api/request-params.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";
import { parseRequest } from "../http/validate.ts";
import { uidHistory, weightSetsJson, weightsPreview, windowLines } from "../scoring/score-records.ts";

export const scoreRoutes = new Hono<AppEnv>()
  .get("/scores/:window", async (c) => {
    const { window } = parseRequest(windowPath, c.req.param());
    const lines = await windowLines(c.get("ctx"), window);
    if (!lines.length)
      throw new EdgeError("NOT_FOUND", `window ${window} has no scores (not scored yet, or no miners)`);
    return c.json({ window, scores: lines });
  })
  .get("/miners/:uid/scores", async (c) => {
    const { uid } = parseRequest(uidPath, c.req.param());
    const { limit, before } = parseRequest(historyQuery, c.req.query());
    return c.json({ uid, scores: await uidHistory(c.get("ctx"), uid, limit, before) });
  })
  .get("/weights/latest", async (c) => c.json({ preview: await weightsPreview(c.get("ctx")) }))
  .get("/weights/sets", async (c) => {
    const { limit } = parseRequest(weightSetsQuery, c.req.query());
    return c.json({ weight_sets: await weightSetsJson(c.get("ctx"), limit) });
  });
