/**
 * The Worker's HTTP surface: wiring only. Each route declares its operation beside its handler
 * (http/route.ts); this list serves them and /openapi.json documents them. Domain logic lives in
 * plain modules beside this one; errors of every route become JSON in http/error-response.ts.
 */
import { Hono } from "hono";
import type { Operation } from "../schema/api/openapi.ts";
import { EdgeError } from "../schema/errors.ts";
import { type ChainFactory, workerContext } from "./context.ts";
import { errorResponse } from "./http/error-response.ts";
import type { AppEnv } from "./http/request-context.ts";
import { type Route, serveRoutes } from "./http/route.ts";
import { adminRoutes } from "./routes/admin.ts";
import { artifactRoutes } from "./routes/artifacts.ts";
import { benchRoutes } from "./routes/bench.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { gradientRoutes } from "./routes/gradients.ts";
import { hotkeyRoutes } from "./routes/hotkeys.ts";
import { metaRoutes } from "./routes/meta.ts";
import { openApiRoute } from "./routes/openapi.ts";
import { runnerRoutes } from "./routes/runner.ts";
import { scoreRoutes } from "./routes/scores.ts";
import { statusRoutes } from "./routes/status.ts";
import { submissionRoutes } from "./routes/submissions.ts";
import { windowRoutes } from "./routes/windows.ts";

export interface AppDeps {
  readonly chain: ChainFactory;
  readonly now?: () => number;
}

/** Every route the Worker serves, each with its declared operation. */
export const ROUTES: readonly Route[] = [
  ...metaRoutes,
  ...statusRoutes,
  ...windowRoutes,
  ...gradientRoutes,
  ...hotkeyRoutes,
  ...submissionRoutes,
  ...artifactRoutes,
  ...scoreRoutes,
  ...runnerRoutes,
  ...adminRoutes,
  openApiRoute(() => API_OPERATIONS),
  ...dashboardRoutes,
  ...benchRoutes,
];

/** The operations of every route: what /openapi.json and docs/API.md document. */
export const API_OPERATIONS: readonly Operation[] = ROUTES.map((r) => r.operation);

/** Builds the Hono app of the Worker. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set(
      "ctx",
      workerContext(c.env, deps.chain, deps.now, (work) => c.executionCtx.waitUntil(work)),
    );
    await next();
  });
  serveRoutes(app, ROUTES);
  app.notFound((c) =>
    errorResponse(new EdgeError("NOT_FOUND", `no route ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );
  app.onError((err) => errorResponse(err));
  return app;
}
