/**
 * Admin routes (docs/DEPLOY.md, "Admin"): pause and resume intake, re-run a window's evaluation,
 * read the admin log. Every route needs `Authorization: Bearer <ADMIN_TOKEN>`. Wiring only: the
 * logic is in admin/.
 */
import { adminReasonBody } from "../../schema/api/admin-requests.ts";
import { typedAnswer } from "../../schema/api/openapi.ts";
import { windowPath } from "../../schema/api/request-params.ts";
import type { ErrorCode } from "../../schema/errors.ts";
import { adminLog } from "../admin/admin-log.ts";
import { intakeState, switchIntake } from "../admin/intake-pause.ts";
import { rerunEvaluation } from "../admin/rerun-evaluation.ts";
import { route } from "../http/route.ts";

const ADMIN_ERRORS: readonly ErrorCode[] = ["UNAUTHORIZED", "ADMIN_DISABLED"];
const INTAKE_STATE = typedAnswer(200, "{intake}", "{ intake: IntakeState } (workers/admin/intake-pause.ts)");
/** An admin action's optional `{"reason": "…"}` body, kept in the admin log. */
const REASON = { body: adminReasonBody, bodyHint: 'the body must be empty or JSON: {"reason": "…"}' } as const;

export const adminRoutes = [
  route(
    {
      id: "intakeState",
      method: "get",
      path: "/v1/admin/intake",
      tag: "admin",
      summary: "Whether intake is paused",
      auth: "admin",
      answers: [INTAKE_STATE],
      errors: ADMIN_ERRORS,
    },
    async (c, { ctx }) => c.json({ intake: await intakeState(ctx.db) }),
  ),
  route(
    {
      id: "pauseIntake",
      method: "post",
      path: "/v1/admin/intake/pause",
      tag: "admin",
      summary: "Pause intake: uploads answer INTAKE_PAUSED until resumed",
      auth: "admin",
      ...REASON,
      answers: [INTAKE_STATE],
      errors: ADMIN_ERRORS,
    },
    async (c, { ctx, body }) => c.json({ intake: await switchIntake(ctx, true, body.reason ?? null) }),
  ),
  route(
    {
      id: "resumeIntake",
      method: "post",
      path: "/v1/admin/intake/resume",
      tag: "admin",
      summary: "Resume intake",
      auth: "admin",
      ...REASON,
      answers: [INTAKE_STATE],
      errors: ADMIN_ERRORS,
    },
    async (c, { ctx, body }) => c.json({ intake: await switchIntake(ctx, false, body.reason ?? null) }),
  ),
  route(
    {
      id: "rerunEvaluation",
      method: "post",
      path: "/v1/admin/windows/:window/rerun-evaluation",
      tag: "admin",
      summary: "Re-run a window's evaluation (before it is scored)",
      auth: "admin",
      pathParams: windowPath,
      ...REASON,
      answers: [typedAnswer(200, "{rerun}", "{ rerun: RerunReport } (workers/admin/rerun-evaluation.ts)")],
      errors: [...ADMIN_ERRORS, "RERUN_REFUSED"],
    },
    async (c, { ctx, params, body }) =>
      c.json({ rerun: await rerunEvaluation(ctx, params.window, body.reason ?? null) }),
  ),
  route(
    {
      id: "adminActions",
      method: "get",
      path: "/v1/admin/actions",
      tag: "admin",
      summary: "The admin log, newest first",
      auth: "admin",
      answers: [typedAnswer(200, "{actions}", "{ actions: {id, action, window, reason, details, at_ms}[] }")],
      errors: ADMIN_ERRORS,
    },
    async (c, { ctx }) => c.json({ actions: await adminLog(ctx) }),
  ),
];
