/** Routes about the validator itself: liveness and the protocol numbers it runs with. */
import { Hono } from "hono";
import type { AppEnv } from "../app.ts";

export const metaRoutes = new Hono<AppEnv>()
  .get("/health", (c) => {
    const { hparams, netuid } = c.get("ctx").config;
    return c.json({ status: "ok", profile: hparams.profile, netuid });
  })
  .get("/hparams", (c) => c.json(c.get("ctx").config.hparams));
