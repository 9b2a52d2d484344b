/**
 * Admin routes (docs/DEPLOY.md, "Admin"): pause and resume intake, re-run a window's evaluation,
 * read the admin log. Every route needs `Authorization: Bearer <ADMIN_TOKEN>`. Wiring only: the
 * logic is in admin/.
 */
import { desc } from "drizzle-orm";
import { Hono } from "hono";
import { adminReasonBody } from "../../schema/api/admin-requests.ts";
import { windowPath } from "../../schema/api/request-params.ts";
import { adminActions } from "../../schema/db/index.ts";
import { assertAdmin } from "../admin/admin-auth.ts";
import { intakeState, switchIntake } from "../admin/intake-pause.ts";
import { rerunEvaluation } from "../admin/rerun-evaluation.ts";
import type { AppEnv } from "../app.ts";
import { jsonBody, parseRequest } from "../http/validate.ts";

const ACTIONS_SHOWN = 50;

/** The optional `{"reason": "…"}` body of an admin action (schema/api/admin-requests.ts). */
async function reasonOf(req: Request): Promise<string | null> {
  const body = await jsonBody(req, 'the body must be empty or JSON: {"reason": "…"}');
  return parseRequest(adminReasonBody, body).reason ?? null;
}

export const adminRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    await assertAdmin(c.get("ctx").config.adminToken, c.req.header("Authorization"));
    await next();
  })
  .get("/intake", async (c) => c.json({ intake: await intakeState(c.get("ctx").db) }))
  .post("/intake/pause", async (c) =>
    c.json({ intake: await switchIntake(c.get("ctx"), true, await reasonOf(c.req.raw)) }),
  )
  .post("/intake/resume", async (c) =>
    c.json({ intake: await switchIntake(c.get("ctx"), false, await reasonOf(c.req.raw)) }),
  )
  .post("/windows/:window/rerun-evaluation", async (c) => {
    const { window } = parseRequest(windowPath, c.req.param());
    return c.json({ rerun: await rerunEvaluation(c.get("ctx"), window, await reasonOf(c.req.raw)) });
  })
  .get("/actions", async (c) => {
    const rows = await c.get("ctx").db.select().from(adminActions).orderBy(desc(adminActions.id)).limit(ACTIONS_SHOWN);
    return c.json({
      actions: rows.map((r) => ({
        id: r.id,
        action: r.action,
        window: r.window,
        reason: r.reason,
        details: r.details,
        at_ms: r.atMs,
      })),
    });
  });
