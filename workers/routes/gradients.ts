/**
 * Gradient uploads (single and multipart) and downloads. Wiring only: the flows live in
 * intake/; a download before the put window closes needs a runner token.
 */
import { Hono } from "hono";
import { EdgeError } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";
import { submissionJson } from "../http/json.ts";
import { decimalParam } from "../http/params.ts";
import { abortMultipart, completeMultipart, createMultipart, uploadPart } from "../intake/multipart-upload.ts";
import { acceptSingleUpload } from "../intake/single-upload.ts";
import { findSubmission } from "../intake/submission-records.ts";
import { readClaim } from "../intake/upload-claim.ts";
import { authenticatedRunner } from "../runners/runner-auth.ts";

type Params = { window?: string; uid?: string; uploadId?: string; part?: string };

function where(params: Params) {
  return { window: decimalParam(params.window, "window"), uid: decimalParam(params.uid, "uid") };
}

function session(params: Params) {
  const uploadId = params.uploadId ?? "";
  if (!/^[A-Za-z0-9._~+/=-]{1,512}$/.test(uploadId)) throw new EdgeError("MULTIPART_UNKNOWN", "malformed upload id");
  return { ...where(params), uploadId };
}

/** The `parts` list of a completion body. */
async function completionParts(req: Request): Promise<{ part_number: number; etag: string }[]> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    throw new EdgeError("BAD_REQUEST", 'the body must be JSON: {"parts": [{"part_number", "etag"}, …]}');
  }
  const parts = (body as { parts?: unknown })?.parts;
  if (
    !Array.isArray(parts) ||
    !parts.every((p) => Number.isSafeInteger(p?.part_number) && typeof p?.etag === "string" && p.etag.length > 0)
  ) {
    throw new EdgeError("BAD_REQUEST", "parts must be a list of {part_number: integer, etag: string}");
  }
  return parts;
}

export const gradientRoutes = new Hono<AppEnv>()
  .put("/gradients/:window/:uid", async (c) => {
    const ctx = c.get("ctx");
    const claim = readClaim(c.req.raw.headers, "Content-Length", {
      netuid: ctx.config.netuid,
      ...where(c.req.param()),
    });
    const submission = await acceptSingleUpload(ctx, claim, c.req.raw.body);
    return c.json({ submission: submissionJson(submission) }, 202);
  })
  .post("/gradients/:window/:uid/multipart", async (c) => {
    const ctx = c.get("ctx");
    const claim = readClaim(c.req.raw.headers, "X-Templar-Size", {
      netuid: ctx.config.netuid,
      ...where(c.req.param()),
    });
    const created = await createMultipart(ctx, claim);
    const { multipart_min_part_bytes, multipart_max_parts } = ctx.config.hparams.limits;
    return c.json(
      {
        upload_id: created.uploadId,
        part_min_bytes: multipart_min_part_bytes,
        max_parts: multipart_max_parts,
        created_at_ms: created.createdAtMs,
      },
      201,
    );
  })
  .put("/gradients/:window/:uid/multipart/:uploadId/parts/:part", async (c) => {
    const at = { ...session(c.req.param()), partNumber: decimalParam(c.req.param("part"), "part") };
    const part = await uploadPart(c.get("ctx"), at, c.req.raw.headers, c.req.raw.body);
    return c.json({ part_number: part.partNumber, etag: part.etag, size_bytes: part.sizeBytes });
  })
  .post("/gradients/:window/:uid/multipart/:uploadId/complete", async (c) => {
    const at = session(c.req.param());
    const submission = await completeMultipart(c.get("ctx"), at, c.req.raw.headers, await completionParts(c.req.raw));
    return c.json({ submission: submissionJson(submission) }, 202);
  })
  .delete("/gradients/:window/:uid/multipart/:uploadId", async (c) => {
    await abortMultipart(c.get("ctx"), session(c.req.param()), c.req.raw.headers);
    return c.body(null, 204);
  })
  .get("/gradients/:window/:uid", async (c) => {
    const ctx = c.get("ctx");
    const { window, uid } = where(c.req.param());
    const sub = await findSubmission(ctx.db, window, uid);
    if (!sub) throw new EdgeError("NOT_FOUND", `no submission of uid ${uid} for window ${window}`);
    const put = await ctx.clock.putWindow(window);
    const closed = put !== null && ctx.now() > put.closesAtMs;
    if (!closed && !(await authenticatedRunner(ctx.db, c.req.header("Authorization")))) {
      throw new EdgeError(
        "UNAUTHORIZED",
        `gradients of window ${window} are private until its put window closes; runners send a bearer token`,
      );
    }
    const object = await ctx.gradients.get(sub.objectKey);
    if (!object) throw new EdgeError("NOT_FOUND", `the object of uid ${uid}'s window-${window} submission is gone`);
    return new Response(object.body, {
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(object.size),
        ETag: object.httpEtag,
        "X-Templar-Sha256": sub.sha256,
      },
    });
  });
