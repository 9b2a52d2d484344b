/** GET /openapi.json: the OpenAPI 3.1 document of every route (schema/api/openapi.ts), built once per isolate. */
import { Hono } from "hono";
import { openApiDocument } from "../../schema/api/openapi.ts";
import type { AppEnv } from "../app.ts";

let document: Record<string, unknown> | undefined;

export const openApiRoutes = new Hono<AppEnv>().get("/openapi.json", (c) => {
  document ??= openApiDocument();
  return c.json(document);
});
