/**
 * The Worker's HTTP surface: wiring only. Domain logic lives in plain modules beside this one;
 * errors of every route become JSON in http/error-response.ts.
 */
import { Hono } from "hono";
import { EdgeError } from "../schema/errors.ts";
import { type ChainFactory, type WorkerContext, workerContext } from "./context.ts";
import { errorResponse } from "./http/error-response.ts";
import { adminRoutes } from "./routes/admin.ts";
import { artifactRoutes } from "./routes/artifacts.ts";
import { benchRoutes } from "./routes/bench.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { gradientRoutes } from "./routes/gradients.ts";
import { metaRoutes } from "./routes/meta.ts";
import { openApiRoutes } from "./routes/openapi.ts";
import { runnerRoutes } from "./routes/runner.ts";
import { scoreRoutes } from "./routes/scores.ts";
import { statusRoutes } from "./routes/status.ts";
import { submissionRoutes } from "./routes/submissions.ts";
import { windowRoutes } from "./routes/windows.ts";

export interface AppEnv {
  Bindings: Env;
  Variables: { ctx: WorkerContext };
}

export interface AppDeps {
  readonly chain: ChainFactory;
  readonly now?: () => number;
}

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
  app.route("/", openApiRoutes);
  app.route("/v1", metaRoutes);
  app.route("/v1", windowRoutes);
  app.route("/v1", gradientRoutes);
  app.route("/v1", submissionRoutes);
  app.route("/v1", artifactRoutes);
  app.route("/v1", scoreRoutes);
  app.route("/v1", statusRoutes);
  app.route("/v1/runner", runnerRoutes);
  app.route("/v1/admin", adminRoutes);
  app.use("/v1/bench/*", async (c, next) => {
    // typed as the literal "off" of wrangler.toml; `wrangler dev --var BENCHMARK_ROUTES:on` changes it
    if ((c.env.BENCHMARK_ROUTES as string) !== "on")
      throw new EdgeError("NOT_FOUND", `no route ${c.req.method} ${new URL(c.req.url).pathname}`);
    await next();
  });
  app.route("/v1", benchRoutes);
  app.route("/", dashboardRoutes);
  app.notFound((c) =>
    errorResponse(new EdgeError("NOT_FOUND", `no route ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );
  app.onError((err) => errorResponse(err));
  return app;
}
