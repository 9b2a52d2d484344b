/** A submission's status and verdict; a uid's history. */
import { formatHistoryCursor } from "../../schema/api/history-cursor.ts";
import { jsonAnswer } from "../../schema/api/openapi.ts";
import { uidPath, uploadHistoryQuery, windowUidPath } from "../../schema/api/request-params.ts";
import { submissionHistoryResponse, submissionResponse } from "../../schema/api/responses.ts";
import { refusalJson, submissionJson } from "../http/json.ts";
import { route } from "../http/route.ts";
import { requireSubmission, uidHistory } from "../intake/submission-records.ts";

export const submissionRoutes = [
  route(
    {
      id: "submission",
      method: "get",
      path: "/v1/submissions/:window/:uid",
      tag: "results",
      summary: "A submission's status and verdict",
      pathParams: windowUidPath,
      answers: [jsonAnswer(200, "the submission", submissionResponse)],
    },
    async (c, { ctx, params }) =>
      c.json({ submission: submissionJson(await requireSubmission(ctx.db, params.window, params.uid)) }),
  ),
  route(
    {
      id: "minerSubmissions",
      method: "get",
      path: "/v1/miners/:uid/submissions",
      tag: "results",
      summary: "A uid's submissions and refused uploads, newest first, paged by cursor",
      pathParams: uidPath,
      query: uploadHistoryQuery,
      answers: [jsonAnswer(200, "the history", submissionHistoryResponse)],
    },
    async (c, { ctx, params, query }) => {
      const page = await uidHistory(ctx.db, params.uid, query.limit, query.cursor);
      return c.json({
        submissions: page.submissions.map(submissionJson),
        refusals: page.refusals.map(refusalJson),
        next_cursor: page.next && formatHistoryCursor(page.next),
      });
    },
  ),
];
