/** The window clock as miners see it: the current window, and a window's report. */
import { jsonAnswer, typedAnswer } from "../../schema/api/openapi.ts";
import { windowPath } from "../../schema/api/request-params.ts";
import { currentWindowResponse } from "../../schema/api/responses.ts";
import { currentWindow } from "../clock/current-window.ts";
import { windowReport } from "../clock/window-report.ts";
import { route } from "../http/route.ts";

export const windowRoutes = [
  route(
    {
      id: "currentWindow",
      method: "get",
      path: "/v1/windows/current",
      tag: "validator",
      summary: "The chain head, its window, the put window now and the next one",
      answers: [jsonAnswer(200, "the current window", currentWindowResponse)],
      errors: ["CHAIN_UNAVAILABLE"],
    },
    async (c, { ctx }) => c.json(await currentWindow(ctx)),
  ),
  route(
    {
      id: "windowReport",
      method: "get",
      path: "/v1/windows/:window{[0-9]+}",
      tag: "validator",
      summary: "A window's report: put window, seed block, submissions and refusals by code, copies, outer step",
      pathParams: windowPath,
      answers: [typedAnswer(200, "the window's report", "WindowReportJson (schema/api/public.ts)")],
      errors: ["CHAIN_UNAVAILABLE"],
    },
    async (c, { ctx, params }) => c.json(await windowReport(ctx, params.window)),
  ),
];
