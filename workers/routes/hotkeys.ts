/** A hotkey's uid on the validator's netuid: how a miner learns the uid it uploads under. */
import { jsonAnswer } from "../../schema/api/openapi.ts";
import { hotkeyPath } from "../../schema/api/request-params.ts";
import { hotkeyResponse } from "../../schema/api/responses.ts";
import { route } from "../http/route.ts";
import { requireRegisteredUid } from "../metagraph/metagraph.ts";

export const hotkeyRoutes = [
  route(
    {
      id: "hotkey",
      method: "get",
      path: "/v1/hotkeys/:hotkey",
      tag: "uploads",
      summary: "The uid a hotkey holds on the validator's netuid",
      description:
        "The metagraph the validator keeps, refreshed at most once per intake.metagraph_refresh_seconds for a hotkey it does not hold (as for an upload). A hotkey holding no uid is HOTKEY_UNREGISTERED (403, as for an upload).",
      pathParams: hotkeyPath,
      answers: [jsonAnswer(200, "the hotkey's uid", hotkeyResponse)],
      errors: ["HOTKEY_UNREGISTERED"],
    },
    async (c, { ctx, params }) =>
      c.json({
        hotkey: params.hotkey,
        uid: await requireRegisteredUid(ctx, params.hotkey),
        netuid: ctx.config.netuid,
      }),
  ),
];
