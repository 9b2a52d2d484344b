/** Scores and weights: a window's lines, a uid's history, the weight vector and its way to the chain. */
import { Hono } from "hono";
import { EdgeError } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";
import { decimalParam, limitParam, optionalDecimalParam } from "../http/params.ts";
import { uidHistory, weightSetsJson, weightsPreview, windowLines } from "../scoring/score-records.ts";

const MAX_LIMIT = 200;

export const scoreRoutes = new Hono<AppEnv>()
  .get("/scores/:window", async (c) => {
    const window = decimalParam(c.req.param("window"), "window");
    const lines = await windowLines(c.get("ctx"), window);
    if (!lines.length)
      throw new EdgeError("NOT_FOUND", `window ${window} has no scores (not scored yet, or no miners)`);
    return c.json({ window, scores: lines });
  })
  .get("/miners/:uid/scores", async (c) => {
    const uid = decimalParam(c.req.param("uid"), "uid");
    const limit = limitParam(c.req.query("limit"), 50, MAX_LIMIT);
    const before = optionalDecimalParam(c.req.query("before"), "before");
    return c.json({ uid, scores: await uidHistory(c.get("ctx"), uid, limit, before) });
  })
  .get("/weights/latest", async (c) => c.json({ preview: await weightsPreview(c.get("ctx")) }))
  .get("/weights/sets", async (c) => {
    const limit = limitParam(c.req.query("limit"), 20, MAX_LIMIT);
    return c.json({ weight_sets: await weightSetsJson(c.get("ctx"), limit) });
  });
