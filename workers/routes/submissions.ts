/** A submission's status and verdict; a uid's history. */
import { Hono } from "hono";
import { EdgeError } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";
import { refusalJson, submissionJson } from "../http/json.ts";
import { decimalParam } from "../http/params.ts";
import { findSubmission, uidHistory } from "../intake/submission-records.ts";

const MAX_LIMIT = 200;

export const submissionRoutes = new Hono<AppEnv>()
  .get("/submissions/:window/:uid", async (c) => {
    const window = decimalParam(c.req.param("window"), "window");
    const uid = decimalParam(c.req.param("uid"), "uid");
    const sub = await findSubmission(c.get("ctx").db, window, uid);
    if (!sub) throw new EdgeError("NOT_FOUND", `no submission of uid ${uid} for window ${window}`);
    return c.json({ submission: submissionJson(sub) });
  })
  .get("/miners/:uid/submissions", async (c) => {
    const uid = decimalParam(c.req.param("uid"), "uid");
    const limitText = c.req.query("limit");
    const limit = limitText === undefined ? 50 : decimalParam(limitText, "limit");
    if (limit < 1 || limit > MAX_LIMIT) throw new EdgeError("BAD_REQUEST", `limit must be between 1 and ${MAX_LIMIT}`);
    const beforeText = c.req.query("before");
    const before = beforeText === undefined ? undefined : decimalParam(beforeText, "before");
    const history = await uidHistory(c.get("ctx").db, uid, limit, before);
    return c.json({
      submissions: history.submissions.map(submissionJson),
      refusals: history.refusals.map(refusalJson),
    });
  });
