/** The dashboard, server-rendered HTML: GET / (windows, held-out bpb, leaderboard) and GET /miners/{uid}. */
import { uidPath } from "../../schema/api/request-params.ts";
import { minerPageView, unknownMinerPage } from "../dashboard/miner-page.ts";
import { overviewPage } from "../dashboard/overview-page.ts";
import { overview } from "../dashboard/overview-query.ts";
import { route } from "../http/route.ts";
import { minerRecord } from "../scoring/miner-record.ts";

export const dashboardRoutes = [
  route(
    {
      id: "dashboard",
      method: "get",
      path: "/",
      tag: "dashboard",
      summary: "The dashboard: windows, held-out bpb, leaderboard (HTML)",
      answers: [{ status: 200, description: "the page", content: "html" }],
    },
    async (c, { ctx }) => c.html(overviewPage(await overview(ctx))),
  ),
  route(
    {
      id: "minerPage",
      method: "get",
      path: "/miners/:uid{[0-9]+}",
      tag: "dashboard",
      summary: "A uid's page (HTML)",
      pathParams: uidPath,
      answers: [{ status: 200, description: "the page (404 with a page for an unknown uid)", content: "html" }],
    },
    async (c, { ctx, params }) => {
      const view = await minerRecord(ctx, params.uid);
      return view ? c.html(minerPageView(view, ctx.now())) : c.html(unknownMinerPage(params.uid, ctx.now()), 404);
    },
  ),
];
