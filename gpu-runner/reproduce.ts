/**
 * Re-runs one recorded evaluation from public data and prints the stored and the reproduced
 * figures side by side; exits 1 unless every loss is the same bit for bit.
 *
 *   npm run reproduce -- --window W --uid U [--url URL] [--token TOKEN] [--device cpu|cuda]
 *
 * Everything it needs is public once the window's put window has closed: the record (seeds and
 * samples included), the base checkpoint, the gradient and the data shards.
 */
import { parseArgs } from "node:util";
import type { EvaluationJson, SubmissionJson } from "../schema/api/public.ts";
import type { EvaluationResult, WorkOrder } from "../schema/api/runner.ts";
import { Evaluator } from "./evaluator.ts";
import type { Device } from "./model/loss-session.ts";
import { ValidatorApi } from "./validator-api.ts";

const LOSSES = ["loss_before_own", "loss_after_own", "loss_before_random", "loss_after_random"] as const;

/** The stored and reproduced figures of one evaluation, and whether they are bitwise equal. */
export async function reproduce(api: ValidatorApi, window: number, uid: number, device: Device = "cpu") {
  const { evaluation } = await api.json<{ evaluation: EvaluationJson }>(`/v1/evaluations/${window}/${uid}`);
  const { submission } = await api.json<{ submission: SubmissionJson }>(`/v1/submissions/${window}/${uid}`);
  const { netuid } = await api.json<{ netuid: number }>("/v1/health");
  // The window's reference step: the gradients of the uids the record names, in submission order.
  const reference = await Promise.all(
    evaluation.reference_uids.map(async (u) => {
      const s = (await api.json<{ submission: SubmissionJson }>(`/v1/submissions/${window}/${u}`)).submission;
      return { uid: u, hotkey: s.hotkey, sha256: s.sha256, gradient_url: `/v1/gradients/${window}/${u}` };
    }),
  );
  const order: WorkOrder = {
    kind: "evaluate",
    lease: { id: 0, batch_id: evaluation.batch_id, window, expires_at_ms: 0 },
    netuid,
    checkpoint: { window, url: `/v1/checkpoints/${window}` },
    eval_lr: evaluation.eval_lr as number,
    random: { seed: Number(evaluation.random_seed), samples: evaluation.random_samples as number[] },
    submissions: [
      {
        submission_id: evaluation.submission_id,
        uid,
        hotkey: submission.hotkey,
        sha256: submission.sha256,
        size_bytes: submission.size_bytes,
        gradient_url: `/v1/gradients/${window}/${uid}`,
        own: { seed: Number(evaluation.own_seed), samples: evaluation.own_samples as number[] },
      },
    ],
    reference: reference.map((r, i) => ({ submission_id: i, ...r })),
  };
  const evaluator = await Evaluator.open(api, device);
  try {
    const [again] = (await evaluator.evaluate(order)) as [EvaluationResult];
    const rows: { figure: string; stored: unknown; reproduced: unknown; same: boolean }[] = LOSSES.map((k) => ({
      figure: k,
      stored: evaluation[k],
      reproduced: again[k] ?? null,
      same: Object.is(evaluation[k], again[k] ?? null),
    }));
    // The per-sample losses behind the indicator, compared as their JSON (bit for bit as float32 → JSON).
    const stored = JSON.stringify(evaluation.sample_losses ?? null);
    const reproduced = JSON.stringify(again.error ? null : (again.sample_losses ?? null));
    rows.push({
      figure: "sample_losses",
      stored: `${stored.length} chars`,
      reproduced: `${reproduced.length} chars`,
      same: stored === reproduced,
    });
    return {
      rows,
      same: rows.every((r) => r.same) && (evaluation.error?.code ?? null) === (again.error?.code ?? null),
      error: again.error,
    };
  } finally {
    await evaluator.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      window: { type: "string" },
      uid: { type: "string" },
      url: { type: "string", default: "http://127.0.0.1:8787" },
      token: { type: "string", default: process.env.TEMPLAR_RUNNER_TOKEN ?? "" },
      device: { type: "string", default: "cpu" },
    },
  });
  if (values.window === undefined || values.uid === undefined) {
    console.error("reproduce: --window W and --uid U are required");
    process.exit(2);
  }
  const result = await reproduce(
    new ValidatorApi(values.url as string, values.token as string),
    Number(values.window),
    Number(values.uid),
    values.device as Device,
  );
  console.log(`evaluation of uid ${values.uid} in window ${values.window}`);
  for (const r of result.rows)
    console.log(
      `  ${r.figure.padEnd(20)} stored ${String(r.stored).padEnd(22)} reproduced ${String(r.reproduced).padEnd(22)} ${r.same ? "same" : "DIFFERENT"}`,
    );
  if (result.error) console.log(`  error ${result.error.code}: ${result.error.message}`);
  console.log(result.same ? "reproduced bit for bit" : "NOT reproduced");
  process.exitCode = result.same ? 0 : 1;
}
