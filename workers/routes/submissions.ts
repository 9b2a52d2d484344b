/** A submission's status and verdict; a uid's history. */
import { Hono } from "hono";
import { EdgeError } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";
import { refusalJson, submissionJson } from "../http/json.ts";
import { decimalParam, limitParam, optionalDecimalParam } from "../http/params.ts";
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
    const limit = limitParam(c.req.query("limit"), 50, MAX_LIMIT);
    const before = optionalDecimalParam(c.req.query("before"), "before");
    const history = await uidHistory(c.get("ctx").db, uid, limit, before);
    return c.json({
      submissions: history.submissions.map(submissionJson),
      refusals: history.refusals.map(refusalJson),
    });
  });
