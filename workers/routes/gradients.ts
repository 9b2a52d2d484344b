/**
 * Gradient uploads (single and multipart) and downloads. Wiring only: the flows live in
 * intake/; a download before the put window closes needs a runner token.
 */
import { Hono } from "hono";
import type { z } from "zod";
import { windowUidPath } from "../../schema/api/request-params.ts";
import {
  multipartCompleteBody,
  multipartPartPath,
  multipartSessionHeaders,
  multipartSessionPath,
} from "../../schema/api/upload-requests.ts";
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";
import type { AppEnv } from "../app.ts";
import { submissionJson } from "../http/json.ts";
import { headerObject, jsonBody, parseRequest } from "../http/validate.ts";
import { abortMultipart, completeMultipart, createMultipart, uploadPart } from "../intake/multipart-upload.ts";
import { acceptSingleUpload } from "../intake/single-upload.ts";
import { findSubmission } from "../intake/submission-records.ts";
import { readClaim } from "../intake/upload-claim.ts";
import { authenticatedRunner } from "../runners/runner-auth.ts";

/** A malformed upload id names no session: MULTIPART_UNKNOWN, like an unknown one. */
function sessionIssueCode(issue: z.core.$ZodIssue): ErrorCode {
  return issue.path[0] === "uploadId" ? "MULTIPART_UNKNOWN" : "BAD_REQUEST";
}

/** The session's hotkey and signature must come with each of its requests (SIGNATURE_MISSING otherwise). */
function sessionHeaders(headers: Headers): void {
  parseRequest(
    multipartSessionHeaders,
    headerObject(headers, Object.keys(multipartSessionHeaders.shape)),
    () => "SIGNATURE_MISSING",
  );
}

export const gradientRoutes = new Hono<AppEnv>()
  .put("/gradients/:window/:uid", async (c) => {
    const ctx = c.get("ctx");
    const claim = readClaim(c.req.raw.headers, "Content-Length", {
      netuid: ctx.config.netuid,
      ...parseRequest(windowUidPath, c.req.param()),
    });
    const submission = await acceptSingleUpload(ctx, claim, c.req.raw.body);
    return c.json({ submission: submissionJson(submission) }, 202);
  })
  .post("/gradients/:window/:uid/multipart", async (c) => {
    const ctx = c.get("ctx");
    const claim = readClaim(c.req.raw.headers, "X-Templar-Size", {
      netuid: ctx.config.netuid,
      ...parseRequest(windowUidPath, c.req.param()),
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
    const { part, ...at } = parseRequest(multipartPartPath, c.req.param(), sessionIssueCode);
    sessionHeaders(c.req.raw.headers);
    const stored = await uploadPart(c.get("ctx"), { ...at, partNumber: part }, c.req.raw.headers, c.req.raw.body);
    return c.json({ part_number: stored.partNumber, etag: stored.etag, size_bytes: stored.sizeBytes });
  })
  .post("/gradients/:window/:uid/multipart/:uploadId/complete", async (c) => {
    const at = parseRequest(multipartSessionPath, c.req.param(), sessionIssueCode);
    sessionHeaders(c.req.raw.headers);
    const { parts } = parseRequest(
      multipartCompleteBody,
      await jsonBody(c.req.raw, 'the body must be JSON: {"parts": [{"part_number", "etag"}, …]}'),
    );
    const submission = await completeMultipart(c.get("ctx"), at, c.req.raw.headers, parts);
    return c.json({ submission: submissionJson(submission) }, 202);
  })
  .delete("/gradients/:window/:uid/multipart/:uploadId", async (c) => {
    const at = parseRequest(multipartSessionPath, c.req.param(), sessionIssueCode);
    sessionHeaders(c.req.raw.headers);
    await abortMultipart(c.get("ctx"), at, c.req.raw.headers);
    return c.body(null, 204);
  })
  .get("/gradients/:window/:uid", async (c) => {
    const ctx = c.get("ctx");
    const { window, uid } = parseRequest(windowUidPath, c.req.param());
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
