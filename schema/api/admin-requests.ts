/** What operators send: the optional reason of an admin action, and how many windows /v1/status covers. */
import { z } from "zod";
import { decimalParam } from "./request-params.ts";

/** The longest reason an admin action keeps. */
export const MAX_ADMIN_REASON = 500;

/** The body of an admin action: empty, or `{"reason": "…"}` kept in the admin log. */
export const adminReasonBody = z.object({
  reason: z
    .string({ error: `reason must be a string of at most ${MAX_ADMIN_REASON} characters` })
    .max(MAX_ADMIN_REASON, `reason must be a string of at most ${MAX_ADMIN_REASON} characters`)
    .nullable()
    .optional(),
});

/** `?windows` of GET /v1/status: how many recent windows to summarize (clamped to the route's range). */
export const statusQuery = z.object({
  windows: decimalParam("windows")
    .optional()
    .meta({ description: "recent windows to summarize (default 8, at most 100)" }),
});
