/** Scores and weights: a window's lines, a uid's history, the weight vector and its way to the chain. */
import { typedAnswer } from "../../schema/api/openapi.ts";
import { historyQuery, uidPath, weightSetsQuery, windowPath } from "../../schema/api/request-params.ts";
import { route } from "../http/route.ts";
import { uidHistory, weightSetsJson, weightsPreview, windowLines } from "../scoring/score-records.ts";

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
