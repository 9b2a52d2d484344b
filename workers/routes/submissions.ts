/** A submission's status and verdict; a uid's history. */
import { Hono } from "hono";
import { historyQuery, uidPath, windowUidPath } from "../../schema/api/request-params.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";
import { refusalJson, submissionJson } from "../http/json.ts";
import { parseRequest } from "../http/validate.ts";
import { findSubmission, uidHistory } from "../intake/submission-records.ts";

export const submissionRoutes = new Hono<AppEnv>()
  .get("/submissions/:window/:uid", async (c) => {
    const { window, uid } = parseRequest(windowUidPath, c.req.param());
    const sub = await findSubmission(c.get("ctx").db, window, uid);
    if (!sub) throw new EdgeError("NOT_FOUND", `no submission of uid ${uid} for window ${window}`);
    return c.json({ submission: submissionJson(sub) });
  })
  .get("/miners/:uid/submissions", async (c) => {
    const { uid } = parseRequest(uidPath, c.req.param());
    const { limit, before } = parseRequest(historyQuery, c.req.query());
    const history = await uidHistory(c.get("ctx").db, uid, limit, before);
    return c.json({
      submissions: history.submissions.map(submissionJson),
      refusals: history.refusals.map(refusalJson),
    });
  });
