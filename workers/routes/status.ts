/** GET /v1/status: counts and latencies of the validator for operators (status/validator-status.ts). */
import { statusQuery } from "../../schema/api/admin-requests.ts";
import { typedAnswer } from "../../schema/api/openapi.ts";
import { route } from "../http/route.ts";
import { validatorStatus } from "../status/validator-status.ts";

export const statusRoutes = [
  route(
    {
      id: "status",
      method: "get",
      path: "/v1/status",
      tag: "validator",
      summary: "Counts and latencies of the last windows, for operators",
      query: statusQuery,
      answers: [typedAnswer(200, "the validator's status", "ValidatorStatus (workers/status/validator-status.ts)")],
    },
    async (c, { ctx, query }) => c.json(await validatorStatus(ctx, query.windows)),
  ),
];
