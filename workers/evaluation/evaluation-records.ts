/** Recorded evaluations as the public API shows them (GET /v1/evaluations/{window}/{uid}). */
import { and, eq } from "drizzle-orm";
import type { EvaluationJson } from "../../schema/api/public.ts";
import { evaluationBatches, evaluationBatchItems, evaluations, submissions } from "../../schema/db/index.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { WorkerContext } from "../context.ts";
import { evaluationJson } from "../http/json.ts";

/** The evaluation of a uid's submission in a window; NOT_FOUND if none is recorded. */
export async function recordedEvaluation(ctx: WorkerContext, window: number, uid: number): Promise<EvaluationJson> {
  const row = await ctx.db
    .select()
    .from(evaluations)
    .where(and(eq(evaluations.window, window), eq(evaluations.uid, uid)))
    .get();
  if (!row) throw new EdgeError("NOT_FOUND", `no evaluation of uid ${uid} in window ${window}`);
  const reference = await ctx.db
    .select({ uid: submissions.uid })
    .from(evaluationBatchItems)
    .innerJoin(evaluationBatches, eq(evaluationBatches.id, evaluationBatchItems.batchId))
    .innerJoin(submissions, eq(submissions.id, evaluationBatchItems.submissionId))
    .where(and(eq(evaluationBatches.window, window), eq(evaluationBatches.kind, "evaluate")))
    .orderBy(submissions.id);
  return evaluationJson(
    row,
    reference.map((r) => r.uid),
  );
}
