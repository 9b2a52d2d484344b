/**
 * What everyone may download, with ETags (a runner fetches a checkpoint once per window): the
 * model manifest, the dataset manifest and shards, each window's base checkpoint θ_S, the
 * aggregate of each outer step, and the recorded evaluations.
 */
import { bytesAnswer, typedAnswer } from "../../schema/api/openapi.ts";
import { dataFilePath, windowPath, windowUidPath } from "../../schema/api/request-params.ts";
import { DATA_MANIFEST_KEY } from "../../schema/data/dataset.ts";
import { aggregateKey, MODEL_MANIFEST_KEY } from "../../schema/model/keys.ts";
import { objectResponse } from "../artifacts.ts";
import { recordedEvaluation } from "../evaluation/evaluation-records.ts";
import { baseCheckpoint } from "../evaluation/work-order.ts";
import { route } from "../http/route.ts";

export const artifactRoutes = [
  route(
    {
      id: "modelManifest",
      method: "get",
      path: "/v1/model/manifest",
      tag: "artifacts",
      summary: "The model manifest (ETag; If-None-Match answers 304)",
      answers: [typedAnswer(200, "the manifest", "ModelManifest (schema/model/manifest.ts)")],
    },
    (c, { ctx }) => objectResponse(ctx.artifacts, MODEL_MANIFEST_KEY, c.req.raw, "application/json"),
  ),
  route(
    {
      id: "dataManifest",
      method: "get",
      path: "/v1/data/manifest",
      tag: "artifacts",
      summary: "The dataset manifest (ETag)",
      answers: [typedAnswer(200, "the manifest", "DataManifest (schema/data/dataset.ts)")],
    },
    (c, { ctx }) => objectResponse(ctx.artifacts, DATA_MANIFEST_KEY, c.req.raw, "application/json"),
  ),
  route(
    {
      id: "dataFile",
      method: "get",
      path: "/v1/data/:file",
      tag: "artifacts",
      summary: "A dataset shard (ETag)",
      pathParams: dataFilePath,
      pathIssue: () => "NOT_FOUND",
      answers: [bytesAnswer("the shard")],
    },
    (c, { ctx, params }) => objectResponse(ctx.artifacts, `data/${params.file}`, c.req.raw),
  ),
  route(
    {
      id: "checkpoint",
      method: "get",
      path: "/v1/checkpoints/:window",
      tag: "artifacts",
      summary: "The base checkpoint θ of a window (X-Templar-Checkpoint-Window names the window it is for; ETag)",
      pathParams: windowPath,
      answers: [bytesAnswer("the checkpoint file")],
    },
    async (c, { ctx, params }) => {
      const base = await baseCheckpoint(ctx, params.window);
      const res = await objectResponse(ctx.artifacts, base.key, c.req.raw);
      res.headers.set("X-Templar-Checkpoint-Window", String(base.window));
      return res;
    },
  ),
  route(
    {
      id: "aggregate",
      method: "get",
      path: "/v1/aggregates/:window",
      tag: "artifacts",
      summary: "The dense aggregate of a window's outer step (ETag)",
      pathParams: windowPath,
      answers: [bytesAnswer("the aggregate file")],
    },
    (c, { ctx, params }) => objectResponse(ctx.artifacts, aggregateKey(params.window), c.req.raw),
  ),
  route(
    {
      id: "evaluation",
      method: "get",
      path: "/v1/evaluations/:window/:uid",
      tag: "results",
      summary: "A recorded evaluation: losses, seeds, samples, timings",
      pathParams: windowUidPath,
      answers: [typedAnswer(200, "{evaluation}", "{ evaluation: EvaluationJson } (schema/api/public.ts)")],
    },
    async (c, { ctx, params }) => c.json({ evaluation: await recordedEvaluation(ctx, params.window, params.uid) }),
  ),
];
