/**
 * Gradient uploads (single and multipart) and downloads. Wiring only: the flows live in
 * intake/; a download before the put window closes needs a runner token.
 */
import type { z } from "zod";
import { bytesAnswer, jsonAnswer } from "../../schema/api/openapi.ts";
import { windowUidPath } from "../../schema/api/request-params.ts";
import { multipartCreatedResponse, partStoredResponse, submissionResponse } from "../../schema/api/responses.ts";
import {
  multipartCompleteBody,
  multipartCreateHeaders,
  multipartPartPath,
  multipartSessionHeaders,
  multipartSessionPath,
  singleUploadHeaders,
} from "../../schema/api/upload-requests.ts";
import { ERROR_CODES, type ErrorCode } from "../../schema/errors.ts";
import { multipartCreatedJson, submissionJson } from "../http/json.ts";
import { route } from "../http/route.ts";
import { readGradient } from "../intake/gradient-download.ts";
import { abortMultipart, completeMultipart, createMultipart, uploadPart } from "../intake/multipart-upload.ts";
import { acceptSingleUpload } from "../intake/single-upload.ts";
import { countUnprovenRefusal } from "../intake/submission-records.ts";
import { claimIssueCode, claimOf } from "../intake/upload-claim.ts";

/** Every upload refusal, and the chain being down while the uploader is looked up. */
const UPLOAD_ERRORS: readonly ErrorCode[] = [
  ...(Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => ERROR_CODES[code].stage === "upload"),
  "CHAIN_UNAVAILABLE",
];

/** A malformed upload id names no session: MULTIPART_UNKNOWN, like an unknown one. */
function sessionIssueCode(issue: z.core.$ZodIssue): ErrorCode {
  return issue.path[0] === "uploadId" ? "MULTIPART_UNKNOWN" : "BAD_REQUEST";
}

/** How a multipart session's requests are checked: its path, and the hotkey and signature that opened it. */
const SESSION = {
  pathIssue: sessionIssueCode,
  headers: multipartSessionHeaders,
  missingHeader: "SIGNATURE_MISSING",
  errors: UPLOAD_ERRORS,
} as const;

export const gradientRoutes = [
  route(
    {
      id: "uploadGradient",
      method: "put",
      path: "/v1/gradients/:window/:uid",
      tag: "uploads",
      summary: "Upload a gradient file in one request (up to limits.max_single_upload_bytes)",
      description: "The body is the file; the headers carry the hotkey's signature over the file's sha256 and size.",
      pathParams: windowUidPath,
      headers: singleUploadHeaders,
      missingHeader: "SIGNATURE_MISSING",
      headerIssue: claimIssueCode,
      onRefusal: countUnprovenRefusal,
      body: "binary",
      answers: [
        jsonAnswer(202, "received: the verdict follows (GET /v1/submissions/{window}/{uid})", submissionResponse),
      ],
      errors: UPLOAD_ERRORS,
    },
    async (c, { ctx, params, headers }) => {
      const claim = claimOf(headers, { netuid: ctx.config.netuid, ...params });
      const submission = await acceptSingleUpload(ctx, claim, c.req.raw.body);
      return c.json({ submission: submissionJson(submission) }, 202);
    },
  ),
  route(
    {
      id: "createMultipart",
      method: "post",
      path: "/v1/gradients/:window/:uid/multipart",
      tag: "uploads",
      summary: "Open a multipart upload for a signed file",
      pathParams: windowUidPath,
      headers: multipartCreateHeaders,
      missingHeader: "SIGNATURE_MISSING",
      headerIssue: claimIssueCode,
      onRefusal: countUnprovenRefusal,
      answers: [jsonAnswer(201, "the session", multipartCreatedResponse)],
      errors: UPLOAD_ERRORS,
    },
    async (c, { ctx, params, headers }) => {
      const created = await createMultipart(ctx, claimOf(headers, { netuid: ctx.config.netuid, ...params }));
      return c.json(multipartCreatedJson(created, ctx.config.hparams.limits), 201);
    },
  ),
  route(
    {
      id: "uploadPart",
      method: "put",
      path: "/v1/gradients/:window/:uid/multipart/:uploadId/parts/:part",
      tag: "uploads",
      summary: "Upload one part (re-sending a part number replaces it)",
      pathParams: multipartPartPath,
      ...SESSION,
      body: "binary",
      answers: [jsonAnswer(200, "the stored part", partStoredResponse)],
    },
    async (c, { ctx, params: { part, ...at }, headers }) => {
      const stored = await uploadPart(ctx, { ...at, partNumber: part }, headers, c.req.raw.headers, c.req.raw.body);
      return c.json({ part_number: stored.partNumber, etag: stored.etag, size_bytes: stored.sizeBytes });
    },
  ),
  route(
    {
      id: "completeMultipart",
      method: "post",
      path: "/v1/gradients/:window/:uid/multipart/:uploadId/complete",
      tag: "uploads",
      summary: "Complete a multipart upload: its arrival is the receipt time",
      pathParams: multipartSessionPath,
      ...SESSION,
      body: multipartCompleteBody,
      bodyHint: 'the body must be JSON: {"parts": [{"part_number", "etag"}, …]}',
      answers: [jsonAnswer(202, "received: the verdict follows", submissionResponse)],
    },
    async (c, { ctx, params, headers, body }) => {
      const submission = await completeMultipart(ctx, params, headers, body.parts);
      return c.json({ submission: submissionJson(submission) }, 202);
    },
  ),
  route(
    {
      id: "abortMultipart",
      method: "delete",
      path: "/v1/gradients/:window/:uid/multipart/:uploadId",
      tag: "uploads",
      summary: "Abort a multipart upload",
      pathParams: multipartSessionPath,
      ...SESSION,
      answers: [{ status: 204, description: "aborted", content: "none" }],
    },
    async (c, { ctx, params, headers }) => {
      await abortMultipart(ctx, params, headers);
      return c.body(null, 204);
    },
  ),
  route(
    {
      id: "downloadGradient",
      method: "get",
      path: "/v1/gradients/:window/:uid",
      tag: "uploads",
      summary: "Download a submitted gradient file (runners only until the put window closes)",
      description: "The X-Templar-Sha256 response header carries the signed sha256.",
      pathParams: windowUidPath,
      answers: [bytesAnswer("the gradient file")],
      errors: ["UNAUTHORIZED", "CHAIN_UNAVAILABLE"],
    },
    async (c, { ctx, params }) => {
      const { object, sha256 } = await readGradient(ctx, params.window, params.uid, c.req.header("Authorization"));
      return new Response(object.body, {
        headers: {
          "Content-Type": "application/octet-stream",
          "Content-Length": String(object.size),
          ETag: object.httpEtag,
          "X-Templar-Sha256": sha256,
        },
      });
    },
  ),
];
