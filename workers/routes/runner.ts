/**
 * The runner API (docs/SPEC.md, "Runners"): lease a job (an outer step or an evaluation batch),
 * renew it, give it back, upload an outer step's files, post its results. Every route needs a
 * runner's bearer token. Wiring only: leasing is in leases/, the job kinds in runners/runner-jobs.ts.
 */
import { jsonAnswer, typedAnswer } from "../../schema/api/openapi.ts";
import { leasePath } from "../../schema/api/request-params.ts";
import {
  artifactStoredResponse,
  heartbeatResponse,
  releasedResponse,
  resultsRecordedResponse,
} from "../../schema/api/responses.ts";
import {
  advanceArtifactHeaders,
  advanceArtifactPath,
  advanceResultBody,
  evaluationResultsBody,
  releaseBody,
} from "../../schema/api/runner-requests.ts";
import type { ErrorCode } from "../../schema/errors.ts";
import { route } from "../http/route.ts";
import { releaseLease, renewLease } from "../leases/job-leases.ts";
import { storeAdvanceArtifact } from "../model/model-advance.ts";
import { leaseWork, recordJobResults } from "../runners/runner-jobs.ts";

const RUNNER_ERRORS: readonly ErrorCode[] = ["UNAUTHORIZED", "LEASE_NOT_HELD"];

export const runnerRoutes = [
  route(
    {
      id: "lease",
      method: "post",
      path: "/v1/runner/leases",
      tag: "runner",
      summary: "Lease a batch: an outer step first, else an evaluation batch",
      auth: "runner",
      answers: [
        typedAnswer(200, "a work order", "WorkOrder | AdvanceOrder (schema/api/runner.ts), by its `kind`"),
        { status: 204, description: "nothing to do now", content: "none" },
      ],
      errors: RUNNER_ERRORS,
    },
    async (c, { ctx, runner }) => {
      const order = await leaseWork(ctx, runner.id);
      return order ? c.json(order) : c.body(null, 204);
    },
  ),
  route(
    {
      id: "heartbeat",
      method: "post",
      path: "/v1/runner/leases/:lease/heartbeat",
      tag: "runner",
      summary: "Renew a lease",
      auth: "runner",
      pathParams: leasePath,
      answers: [jsonAnswer(200, "the new expiry", heartbeatResponse)],
      errors: RUNNER_ERRORS,
    },
    async (c, { ctx, runner, params }) => c.json({ expires_at_ms: await renewLease(ctx, runner.id, params.lease) }),
  ),
  route(
    {
      id: "release",
      method: "post",
      path: "/v1/runner/leases/:lease/release",
      tag: "runner",
      summary: "Give a lease back (its batch goes back to pending), with the fault that made the runner give up",
      auth: "runner",
      pathParams: leasePath,
      body: releaseBody,
      answers: [jsonAnswer(200, "released", releasedResponse)],
      errors: RUNNER_ERRORS,
    },
    async (c, { ctx, runner, params, body }) => {
      await releaseLease(ctx, runner.id, params.lease, body.error);
      return c.json({ released: true });
    },
  ),
  route(
    {
      id: "advanceArtifact",
      method: "put",
      path: "/v1/runner/leases/:lease/artifacts/:name",
      tag: "runner",
      summary: "Upload an outer step's θ_{S+1} (checkpoint) or dense aggregate",
      auth: "runner",
      pathParams: advanceArtifactPath,
      pathIssue: (issue) => (issue.path[0] === "name" ? "NOT_FOUND" : "BAD_REQUEST"),
      headers: advanceArtifactHeaders,
      body: "binary",
      answers: [jsonAnswer(201, "stored", artifactStoredResponse)],
      errors: [...RUNNER_ERRORS, "SHA256_MISMATCH"],
    },
    async (c, { ctx, runner, params, headers }) => {
      const sha256 = headers["X-Templar-Sha256"];
      const body = await c.req.arrayBuffer();
      return c.json(await storeAdvanceArtifact(ctx, runner.id, params.lease, params.name, sha256, body), 201);
    },
  ),
  route(
    {
      id: "results",
      method: "post",
      path: "/v1/runner/leases/:lease/results",
      tag: "runner",
      summary: "Post a lease's results: evaluations of a batch, or the outer step's measurements",
      description: "Recorded once per lease; a repeated post answers `duplicate: true` and changes nothing.",
      auth: "runner",
      pathParams: leasePath,
      body: [evaluationResultsBody, advanceResultBody],
      answers: [jsonAnswer(200, "recorded", resultsRecordedResponse)],
      errors: [...RUNNER_ERRORS, "CHECKPOINT_INVALID"],
    },
    async (c, { ctx, runner, params, body }) => c.json(await recordJobResults(ctx, runner.id, params.lease, body)),
  ),
];
