/**
 * Every route the Worker serves, with the schemas its handler parses and answers with: the
 * table /openapi.json and docs/API.md are built from (schema/api/openapi.ts). A test compares it
 * with the routes of the Hono app, so a route cannot be served without being documented here.
 */
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "../errors.ts";
import { adminReasonBody, statusQuery } from "./admin-requests.ts";
import {
  dataFilePath,
  historyQuery,
  leasePath,
  uidPath,
  weightSetsQuery,
  windowPath,
  windowUidPath,
} from "./request-params.ts";
import {
  artifactStoredResponse,
  benchPutResponse,
  currentWindowResponse,
  healthResponse,
  heartbeatResponse,
  multipartCreatedResponse,
  partStoredResponse,
  releasedResponse,
  resultsRecordedResponse,
  submissionHistoryResponse,
  submissionResponse,
} from "./responses.ts";
import {
  advanceArtifactHeaders,
  advanceArtifactPath,
  advanceResultBody,
  evaluationResultsBody,
  releaseBody,
} from "./runner-requests.ts";
import {
  multipartCompleteBody,
  multipartCreateHeaders,
  multipartPartPath,
  multipartSessionHeaders,
  multipartSessionPath,
  singleUploadHeaders,
} from "./upload-requests.ts";

export type HttpMethod = "get" | "post" | "put" | "delete";
export type Tag = "validator" | "uploads" | "results" | "artifacts" | "runner" | "admin" | "dashboard" | "benchmark";

/** What a route answers with on success: a JSON schema, a JSON document named by its type, bytes, HTML or nothing. */
export type Answer =
  | { readonly status: number; readonly description: string; readonly json: z.ZodType }
  | { readonly status: number; readonly description: string; readonly jsonType: string }
  | { readonly status: number; readonly description: string; readonly content: "binary" | "html" | "none" };

export interface Operation {
  readonly id: string;
  readonly method: HttpMethod;
  /** OpenAPI form: `/v1/gradients/{window}/{uid}`. */
  readonly path: string;
  readonly tag: Tag;
  readonly summary: string;
  readonly description?: string;
  /** Who may call it: anyone, a runner's bearer token, the admin token; uploads carry a signature in headers. */
  readonly auth?: "runner" | "admin";
  readonly pathParams?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly headers?: z.ZodObject;
  /** A JSON body (its schema or schemas, one of which applies), or raw bytes. */
  readonly body?: z.ZodType | readonly z.ZodType[] | "binary";
  readonly answers: readonly Answer[];
  /** The catalog codes it may answer with besides the ones of every request (BAD_REQUEST, NOT_FOUND, INTERNAL). */
  readonly errors?: readonly ErrorCode[];
}

const codesOf = (stage: string) =>
  (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => ERROR_CODES[code].stage === stage);

/** Codes every request may answer with. */
export const REQUEST_ERRORS: readonly ErrorCode[] = ["BAD_REQUEST", "NOT_FOUND", "INTERNAL"];
const UPLOAD_ERRORS: readonly ErrorCode[] = [...codesOf("upload"), "CHAIN_UNAVAILABLE"];
const RUNNER_ERRORS: readonly ErrorCode[] = ["UNAUTHORIZED", "LEASE_NOT_HELD"];

const json = (status: number, description: string, schema: z.ZodType): Answer => ({
  status,
  description,
  json: schema,
});
const typed = (status: number, description: string, jsonType: string): Answer => ({ status, description, jsonType });
const bytes = (description: string): Answer => ({ status: 200, description, content: "binary" });

export const OPERATIONS: readonly Operation[] = [
  // the validator
  {
    id: "health",
    method: "get",
    path: "/v1/health",
    tag: "validator",
    summary: "Liveness, with the hparams profile and netuid",
    answers: [json(200, "the validator is up", healthResponse)],
  },
  {
    id: "hparams",
    method: "get",
    path: "/v1/hparams",
    tag: "validator",
    summary: "The protocol numbers the validator runs with",
    answers: [typed(200, "the hparams profile", "Hparams (schema/hparams.ts)")],
  },
  {
    id: "status",
    method: "get",
    path: "/v1/status",
    tag: "validator",
    summary: "Counts and latencies of the last windows, for operators",
    query: statusQuery,
    answers: [typed(200, "the validator's status", "ValidatorStatus (workers/status/validator-status.ts)")],
  },
  {
    id: "currentWindow",
    method: "get",
    path: "/v1/windows/current",
    tag: "validator",
    summary: "The chain head, its window, the put window now and the next one",
    answers: [json(200, "the current window", currentWindowResponse)],
    errors: ["CHAIN_UNAVAILABLE"],
  },
  {
    id: "windowReport",
    method: "get",
    path: "/v1/windows/{window}",
    tag: "validator",
    summary: "A window's report: put window, seed block, submissions and refusals by code, copies, outer step",
    pathParams: windowPath,
    answers: [typed(200, "the window's report", "WindowReportJson (schema/api/public.ts)")],
    errors: ["CHAIN_UNAVAILABLE"],
  },
  // uploads
  {
    id: "uploadGradient",
    method: "put",
    path: "/v1/gradients/{window}/{uid}",
    tag: "uploads",
    summary: "Upload a gradient file in one request (up to limits.max_single_upload_bytes)",
    description: "The body is the file; the headers carry the hotkey's signature over the file's sha256 and size.",
    pathParams: windowUidPath,
    headers: singleUploadHeaders,
    body: "binary",
    answers: [json(202, "received: the verdict follows (GET /v1/submissions/{window}/{uid})", submissionResponse)],
    errors: UPLOAD_ERRORS,
  },
  {
    id: "createMultipart",
    method: "post",
    path: "/v1/gradients/{window}/{uid}/multipart",
    tag: "uploads",
    summary: "Open a multipart upload for a signed file",
    pathParams: windowUidPath,
    headers: multipartCreateHeaders,
    answers: [json(201, "the session", multipartCreatedResponse)],
    errors: UPLOAD_ERRORS,
  },
  {
    id: "uploadPart",
    method: "put",
    path: "/v1/gradients/{window}/{uid}/multipart/{uploadId}/parts/{part}",
    tag: "uploads",
    summary: "Upload one part (re-sending a part number replaces it)",
    pathParams: multipartPartPath,
    headers: multipartSessionHeaders,
    body: "binary",
    answers: [json(200, "the stored part", partStoredResponse)],
    errors: UPLOAD_ERRORS,
  },
  {
    id: "completeMultipart",
    method: "post",
    path: "/v1/gradients/{window}/{uid}/multipart/{uploadId}/complete",
    tag: "uploads",
    summary: "Complete a multipart upload: its arrival is the receipt time",
    pathParams: multipartSessionPath,
    headers: multipartSessionHeaders,
    body: multipartCompleteBody,
    answers: [json(202, "received: the verdict follows", submissionResponse)],
    errors: UPLOAD_ERRORS,
  },
  {
    id: "abortMultipart",
    method: "delete",
    path: "/v1/gradients/{window}/{uid}/multipart/{uploadId}",
    tag: "uploads",
    summary: "Abort a multipart upload",
    pathParams: multipartSessionPath,
    headers: multipartSessionHeaders,
    answers: [{ status: 204, description: "aborted", content: "none" }],
    errors: UPLOAD_ERRORS,
  },
  {
    id: "downloadGradient",
    method: "get",
    path: "/v1/gradients/{window}/{uid}",
    tag: "uploads",
    summary: "Download a submitted gradient file (runners only until the put window closes)",
    description: "The X-Templar-Sha256 response header carries the signed sha256.",
    pathParams: windowUidPath,
    answers: [bytes("the gradient file")],
    errors: ["UNAUTHORIZED", "CHAIN_UNAVAILABLE"],
  },
  // results
  {
    id: "submission",
    method: "get",
    path: "/v1/submissions/{window}/{uid}",
    tag: "results",
    summary: "A submission's status and verdict",
    pathParams: windowUidPath,
    answers: [json(200, "the submission", submissionResponse)],
  },
  {
    id: "minerSubmissions",
    method: "get",
    path: "/v1/miners/{uid}/submissions",
    tag: "results",
    summary: "A uid's submissions and refused uploads, newest first",
    pathParams: uidPath,
    query: historyQuery,
    answers: [json(200, "the history", submissionHistoryResponse)],
  },
  {
    id: "evaluation",
    method: "get",
    path: "/v1/evaluations/{window}/{uid}",
    tag: "results",
    summary: "A recorded evaluation: losses, seeds, samples, timings",
    pathParams: windowUidPath,
    answers: [typed(200, "{evaluation}", "{ evaluation: EvaluationJson } (schema/api/public.ts)")],
  },
  {
    id: "windowScores",
    method: "get",
    path: "/v1/scores/{window}",
    tag: "results",
    summary: "A scored window's lines: everything that went into each uid's final score",
    pathParams: windowPath,
    answers: [typed(200, "{window, scores}", "{ window, scores: ScoreLineJson[] } (schema/api/public.ts)")],
  },
  {
    id: "minerScores",
    method: "get",
    path: "/v1/miners/{uid}/scores",
    tag: "results",
    summary: "A uid's score lines, newest first",
    pathParams: uidPath,
    query: historyQuery,
    answers: [typed(200, "{uid, scores}", "{ uid, scores: ScoreLineJson[] } (schema/api/public.ts)")],
  },
  {
    id: "latestWeights",
    method: "get",
    path: "/v1/weights/latest",
    tag: "results",
    summary: "The weight vector the validator would set now, and why",
    answers: [typed(200, "{preview}", "{ preview: WeightsPreviewJson } (schema/api/public.ts)")],
  },
  {
    id: "weightSets",
    method: "get",
    path: "/v1/weights/sets",
    tag: "results",
    summary: "The weight sets and their way to the chain, newest first",
    query: weightSetsQuery,
    answers: [typed(200, "{weight_sets}", "{ weight_sets: WeightSetJson[] } (schema/api/public.ts)")],
  },
  // artifacts
  {
    id: "modelManifest",
    method: "get",
    path: "/v1/model/manifest",
    tag: "artifacts",
    summary: "The model manifest (ETag; If-None-Match answers 304)",
    answers: [typed(200, "the manifest", "ModelManifest (schema/model/manifest.ts)")],
  },
  {
    id: "dataManifest",
    method: "get",
    path: "/v1/data/manifest",
    tag: "artifacts",
    summary: "The dataset manifest (ETag)",
    answers: [typed(200, "the manifest", "DataManifest (schema/data/dataset.ts)")],
  },
  {
    id: "dataFile",
    method: "get",
    path: "/v1/data/{file}",
    tag: "artifacts",
    summary: "A dataset shard (ETag)",
    pathParams: dataFilePath,
    answers: [bytes("the shard")],
  },
  {
    id: "checkpoint",
    method: "get",
    path: "/v1/checkpoints/{window}",
    tag: "artifacts",
    summary: "The base checkpoint θ of a window (X-Templar-Checkpoint-Window names the window it is for; ETag)",
    pathParams: windowPath,
    answers: [bytes("the checkpoint file")],
  },
  {
    id: "aggregate",
    method: "get",
    path: "/v1/aggregates/{window}",
    tag: "artifacts",
    summary: "The dense aggregate of a window's outer step (ETag)",
    pathParams: windowPath,
    answers: [bytes("the aggregate file")],
  },
  // runners
  {
    id: "lease",
    method: "post",
    path: "/v1/runner/leases",
    tag: "runner",
    summary: "Lease a batch: an outer step first, else an evaluation batch",
    auth: "runner",
    answers: [
      typed(200, "a work order", "WorkOrder | AdvanceOrder (schema/api/runner.ts), by its `kind`"),
      { status: 204, description: "nothing to do now", content: "none" },
    ],
    errors: RUNNER_ERRORS,
  },
  {
    id: "heartbeat",
    method: "post",
    path: "/v1/runner/leases/{lease}/heartbeat",
    tag: "runner",
    summary: "Renew a lease",
    auth: "runner",
    pathParams: leasePath,
    answers: [json(200, "the new expiry", heartbeatResponse)],
    errors: RUNNER_ERRORS,
  },
  {
    id: "release",
    method: "post",
    path: "/v1/runner/leases/{lease}/release",
    tag: "runner",
    summary: "Give a lease back (its batch goes back to pending), with the fault that made the runner give up",
    auth: "runner",
    pathParams: leasePath,
    body: releaseBody,
    answers: [json(200, "released", releasedResponse)],
    errors: RUNNER_ERRORS,
  },
  {
    id: "advanceArtifact",
    method: "put",
    path: "/v1/runner/leases/{lease}/artifacts/{name}",
    tag: "runner",
    summary: "Upload an outer step's θ_{S+1} (checkpoint) or dense aggregate",
    auth: "runner",
    pathParams: advanceArtifactPath,
    headers: advanceArtifactHeaders,
    body: "binary",
    answers: [json(201, "stored", artifactStoredResponse)],
    errors: [...RUNNER_ERRORS, "SHA256_MISMATCH"],
  },
  {
    id: "results",
    method: "post",
    path: "/v1/runner/leases/{lease}/results",
    tag: "runner",
    summary: "Post a lease's results: evaluations of a batch, or the outer step's measurements",
    description: "Recorded once per lease; a repeated post answers `duplicate: true` and changes nothing.",
    auth: "runner",
    pathParams: leasePath,
    body: [evaluationResultsBody, advanceResultBody],
    answers: [json(200, "recorded", resultsRecordedResponse)],
    errors: [...RUNNER_ERRORS, "CHECKPOINT_INVALID"],
  },
  // admin
  {
    id: "intakeState",
    method: "get",
    path: "/v1/admin/intake",
    tag: "admin",
    summary: "Whether intake is paused",
    auth: "admin",
    answers: [typed(200, "{intake}", "{ intake: IntakeState } (workers/admin/intake-pause.ts)")],
    errors: ["UNAUTHORIZED", "ADMIN_DISABLED"],
  },
  {
    id: "pauseIntake",
    method: "post",
    path: "/v1/admin/intake/pause",
    tag: "admin",
    summary: "Pause intake: uploads answer INTAKE_PAUSED until resumed",
    auth: "admin",
    body: adminReasonBody,
    answers: [typed(200, "{intake}", "{ intake: IntakeState } (workers/admin/intake-pause.ts)")],
    errors: ["UNAUTHORIZED", "ADMIN_DISABLED"],
  },
  {
    id: "resumeIntake",
    method: "post",
    path: "/v1/admin/intake/resume",
    tag: "admin",
    summary: "Resume intake",
    auth: "admin",
    body: adminReasonBody,
    answers: [typed(200, "{intake}", "{ intake: IntakeState } (workers/admin/intake-pause.ts)")],
    errors: ["UNAUTHORIZED", "ADMIN_DISABLED"],
  },
  {
    id: "rerunEvaluation",
    method: "post",
    path: "/v1/admin/windows/{window}/rerun-evaluation",
    tag: "admin",
    summary: "Re-run a window's evaluation (before it is scored)",
    auth: "admin",
    pathParams: windowPath,
    body: adminReasonBody,
    answers: [typed(200, "{rerun}", "{ rerun: RerunReport } (workers/admin/rerun-evaluation.ts)")],
    errors: ["UNAUTHORIZED", "ADMIN_DISABLED", "RERUN_REFUSED"],
  },
  {
    id: "adminActions",
    method: "get",
    path: "/v1/admin/actions",
    tag: "admin",
    summary: "The admin log, newest first",
    auth: "admin",
    answers: [typed(200, "{actions}", "{ actions: {id, action, window, reason, details, at_ms}[] }")],
    errors: ["UNAUTHORIZED", "ADMIN_DISABLED"],
  },
  // this document, the dashboard and the benchmark
  {
    id: "openapi",
    method: "get",
    path: "/openapi.json",
    tag: "validator",
    summary: "This OpenAPI 3.1 document",
    answers: [typed(200, "the document", "OpenAPI 3.1")],
  },
  {
    id: "dashboard",
    method: "get",
    path: "/",
    tag: "dashboard",
    summary: "The dashboard: windows, held-out bpb, leaderboard (HTML)",
    answers: [{ status: 200, description: "the page", content: "html" }],
  },
  {
    id: "minerPage",
    method: "get",
    path: "/miners/{uid}",
    tag: "dashboard",
    summary: "A uid's page (HTML)",
    pathParams: uidPath,
    answers: [{ status: 200, description: "the page (404 with a page for an unknown uid)", content: "html" }],
  },
  {
    id: "benchPlainPut",
    method: "put",
    path: "/v1/bench/plain-put/{name}",
    tag: "benchmark",
    summary: "A plain R2 put, the baseline of `npm run bench:intake` (404 unless BENCHMARK_ROUTES is on)",
    pathParams: z.object({ name: z.string().meta({ description: "the object's name under bench/" }) }),
    body: "binary",
    answers: [json(201, "stored", benchPutResponse)],
  },
];
