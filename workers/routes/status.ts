/** GET /v1/status: counts and latencies of the validator for operators (status/validator-status.ts). */
import { Hono } from "hono";
import type { AppEnv } from "../app.ts";
import { decimalParam } from "../http/params.ts";
import { MAX_STATUS_WINDOWS, STATUS_WINDOWS, validatorStatus } from "../status/validator-status.ts";

export const statusRoutes = new Hono<AppEnv>().get("/status", async (c) => {
  const asked = c.req.query("windows");
  const windows = asked === undefined ? STATUS_WINDOWS : decimalParam(asked, "windows");
  return c.json(await validatorStatus(c.get("ctx"), Math.min(Math.max(windows, 1), MAX_STATUS_WINDOWS)));
});
