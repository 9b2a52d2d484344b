/** Scores and weights: a window's lines, a uid's history, the weight vector and its way to the chain. */
import { typedAnswer } from "../../schema/api/openapi.ts";
import { historyQuery, uidPath, weightSetsQuery, windowPath } from "../../schema/api/request-params.ts";
import { EdgeError } from "../../schema/errors.ts";
import { route } from "../http/route.ts";
import { minerJson, minerRecord } from "../scoring/miner-record.ts";
import { uidHistory, weightSetsJson, weightsPreview, windowLines } from "../scoring/score-records.ts";

/** Score lines `GET /v1/miners/{uid}` shows: enough to see its evidence build up. */
const MINER_RECENT_LINES = 12;

export const scoreRoutes = [
  route(
    {
      id: "windowScores",
      method: "get",
      path: "/v1/scores/:window",
      tag: "results",
      summary: "A scored window's lines: everything that went into each uid's final score",
      pathParams: windowPath,
      answers: [typedAnswer(200, "{window, scores}", "{ window, scores: ScoreLineJson[] } (schema/api/public.ts)")],
    },
    async (c, { ctx, params }) => c.json({ window: params.window, scores: await windowLines(ctx, params.window) }),
  ),
  route(
    {
      id: "miner",
      method: "get",
      path: "/v1/miners/:uid",
      tag: "results",
      summary: "A uid's state, its own-data evidence and pay factor, why it is paid what it is, and its latest lines",
      pathParams: uidPath,
      answers: [typedAnswer(200, "{miner}", "{ miner: MinerJson } (schema/api/public.ts)")],
    },
    async (c, { ctx, params }) => {
      const record = await minerRecord(ctx, params.uid, MINER_RECENT_LINES);
      if (!record) throw new EdgeError("NOT_FOUND", `the validator has no record of uid ${params.uid}`);
      return c.json({ miner: minerJson(record) });
    },
  ),
  route(
    {
      id: "minerScores",
      method: "get",
      path: "/v1/miners/:uid/scores",
      tag: "results",
      summary: "A uid's score lines, newest first",
      pathParams: uidPath,
      query: historyQuery,
      answers: [typedAnswer(200, "{uid, scores}", "{ uid, scores: ScoreLineJson[] } (schema/api/public.ts)")],
    },
    async (c, { ctx, params, query }) =>
      c.json({ uid: params.uid, scores: await uidHistory(ctx, params.uid, query.limit, query.before) }),
  ),
  route(
    {
      id: "latestWeights",
      method: "get",
      path: "/v1/weights/latest",
      tag: "results",
      summary: "The weight vector the validator would set now, and why",
      answers: [typedAnswer(200, "{preview}", "{ preview: WeightsPreviewJson } (schema/api/public.ts)")],
    },
    async (c, { ctx }) => c.json({ preview: await weightsPreview(ctx) }),
  ),
  route(
    {
      id: "weightSets",
      method: "get",
      path: "/v1/weights/sets",
      tag: "results",
      summary: "The weight sets and their way to the chain, newest first",
      query: weightSetsQuery,
      answers: [typedAnswer(200, "{weight_sets}", "{ weight_sets: WeightSetJson[] } (schema/api/public.ts)")],
    },
    async (c, { ctx, query }) => c.json({ weight_sets: await weightSetsJson(ctx, query.limit) }),
  ),
];
