/** Routes about the validator itself: liveness and the protocol numbers it runs with. */
import { jsonAnswer, typedAnswer } from "../../schema/api/openapi.ts";
import { healthResponse } from "../../schema/api/responses.ts";
import { route } from "../http/route.ts";

export const metaRoutes = [
  route(
    {
      id: "health",
      method: "get",
      path: "/v1/health",
      tag: "validator",
      summary: "Liveness, with the hparams profile and netuid",
      answers: [jsonAnswer(200, "the validator is up", healthResponse)],
    },
    (c, { ctx }) => c.json({ status: "ok", profile: ctx.config.hparams.profile, netuid: ctx.config.netuid }),
  ),
  route(
    {
      id: "hparams",
      method: "get",
      path: "/v1/hparams",
      tag: "validator",
      summary: "The protocol numbers the validator runs with",
      answers: [typedAnswer(200, "the hparams profile", "Hparams (schema/hparams.ts)")],
    },
    (c, { ctx }) => c.json(ctx.config.hparams),
  ),
];
