/** The dashboard, server-rendered HTML: GET / (windows, held-out bpb, leaderboard) and GET /miners/{uid}. */
import { Hono } from "hono";
import type { AppEnv } from "../app.ts";
import { minerPageView, unknownMinerPage } from "../dashboard/miner-page.ts";
import { minerPage } from "../dashboard/miner-query.ts";
import { overviewPage } from "../dashboard/overview-page.ts";
import { overview } from "../dashboard/overview-query.ts";
import { decimalParam } from "../http/params.ts";

export const dashboardRoutes = new Hono<AppEnv>()
  .get("/", async (c) => c.html(overviewPage(await overview(c.get("ctx")))))
  .get("/miners/:uid{[0-9]+}", async (c) => {
    const ctx = c.get("ctx");
    const uid = decimalParam(c.req.param("uid"), "uid");
    const view = await minerPage(ctx, uid);
    return view ? c.html(minerPageView(view, ctx.now())) : c.html(unknownMinerPage(uid, ctx.now()), 404);
  });
