/** GET /v1/status: counts and latencies of the validator for operators (status/validator-status.ts). */
import { Hono } from "hono";
import { statusQuery } from "../../schema/api/admin-requests.ts";
import type { AppEnv } from "../app.ts";
import { parseRequest } from "../http/validate.ts";
import { MAX_STATUS_WINDOWS, STATUS_WINDOWS, validatorStatus } from "../status/validator-status.ts";

export const statusRoutes = new Hono<AppEnv>().get("/status", async (c) => {
  const windows = parseRequest(statusQuery, c.req.query()).windows ?? STATUS_WINDOWS;
  return c.json(await validatorStatus(c.get("ctx"), Math.min(Math.max(windows, 1), MAX_STATUS_WINDOWS)));
});
