/**
 * The Worker's HTTP surface: wiring only. Domain logic lives in plain modules beside this one;
 * errors of every route become JSON in http/error-response.ts.
 */
import { Hono } from "hono";
import { EdgeError } from "../schema/errors.ts";
import { type DeploymentConfig, deploymentConfig } from "./config.ts";
import { errorResponse } from "./http/error-response.ts";
import { metaRoutes } from "./routes/meta.ts";

export interface AppEnv {
  Bindings: Env;
  Variables: { config: DeploymentConfig };
}

/** Builds the Hono app of the Worker. */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("config", deploymentConfig(c.env));
    await next();
  });
  app.route("/v1", metaRoutes);
  app.notFound((c) =>
    errorResponse(new EdgeError("NOT_FOUND", `no route ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );
  app.onError((err) => errorResponse(err));
  return app;
}
