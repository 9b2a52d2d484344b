/**
 * `npm run bench:eval`: what one submission's evaluation costs a CPU runner, split into decode
 * (validation included), apply, the three forward passes and restore, for the default profile's
 * model and a ~25M-parameter one. The overhead ratio is the whole over the forward passes alone,
 * both measured in the same evaluations (target: at most 1.15). Downloads are not included.
 *
 * Options: --runs N (default 5), --quick (the local profile's model only), --templar-150m (also
 * Templar's 150M llama, host apply/restore against θ-resident, one submission of 1 × 2048-token
 * samples each: several minutes on 2 cores; scripts/bench/llama-eval.ts).
 */
import { parseArgs } from "node:util";
import { measureGradient } from "../../gpu-runner/evaluator.ts";
import { byteModel } from "../../gpu-runner/model/family.ts";
import { initialParameters } from "../../gpu-runner/model/init.ts";
import { LossSession } from "../../gpu-runner/model/loss-session.ts";
import { transformerManifest } from "../../gpu-runner/model/transformer.ts";
import { HostThetaLosses } from "../../gpu-runner/theta-losses.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { encodeGradient } from "../../schema/codec/encode.ts";
import { type ByteModelHparams, getHparams, type Hparams } from "../../schema/hparams.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";
import { llamaEvalTable } from "./llama-eval.ts";
import { environment, format, table } from "./measure.ts";
import { lcg } from "./synthetic.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    quick: { type: "boolean", default: false },
    "templar-150m": { type: "boolean", default: false },
  },
});
const RUNS = Number(args.runs);
const base = getHparams("default");

async function bench(label: string, model: ByteModelHparams): Promise<(string | number)[]> {
  const hparams: Hparams = { ...base, model };
  const manifest = transformerManifest(model);
  const layouts = gradientLayout(manifest, hparams.compression);
  const n = parameterSlots(manifest).total;
  const batch = hparams.evaluation.own_samples;
  process.stderr.write(`${label}: ${(n / 1e6).toFixed(1)}M parameters, batch ${batch}×${model.seq_len}\n`);
  const session = await LossSession.create(model, batch);
  const theta = initialParameters(manifest, model.n_layers);
  const next = lcg(9);
  const tokens = () => Uint8Array.from({ length: batch * (model.seq_len + 1) }, () => 32 + Math.floor(next() * 90));
  const own = tokens();
  const random = tokens();
  const gradient = Float32Array.from({ length: n }, () => (next() - 0.5) * 1e-3);
  const identity = {
    netuid: 3,
    window: 1,
    uid: 1,
    hotkey: "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
    base_window: 1,
  };
  const { file } = encodeGradient({
    identity,
    gradient,
    parameters: theta,
    layouts,
    compression: hparams.compression,
    sync: hparams.sync,
  });
  const host = new HostThetaLosses(session, theta);
  const beforeRandom = await host.losses(random);
  const measure = () =>
    measureGradient({
      theta: host,
      bytes: file,
      validation: { manifest, hparams, expect: identity },
      evalLr: 0.2,
      own,
      random,
      beforeRandom,
    });
  await measure(); // warm-up
  const runs: Required<
    Pick<Awaited<ReturnType<typeof measure>>, "decode_ms" | "apply_ms" | "forward_ms" | "restore_ms">
  >[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await measure();
    if (r.error) throw new Error(r.error.message);
    runs.push(r as (typeof runs)[number]);
    process.stderr.write(".");
  }
  process.stderr.write("\n");
  await session.release();
  const median = (k: keyof (typeof runs)[number]) => {
    const xs = runs.map((r) => r[k]).sort((a, b) => a - b);
    return xs[xs.length >> 1] as number;
  };
  const [decode, apply, forward, restore] = [
    median("decode_ms"),
    median("apply_ms"),
    median("forward_ms"),
    median("restore_ms"),
  ];
  const total = decode + apply + forward + restore;
  return [
    label,
    `${(n / 1e6).toFixed(1)}M`,
    `${(file.length / 1e6).toFixed(2)} MB`,
    decode,
    apply,
    forward,
    restore,
    total,
    total / forward,
    60_000 / total,
  ];
}

const baseModel = byteModel(base, "bench:eval");
const models: [string, ByteModelHparams][] = args.quick
  ? [["local profile", byteModel(getHparams("local"), "bench:eval")]]
  : [
      ["default profile", baseModel],
      ["25M (d 512, 8 layers)", { ...baseModel, d_model: 512, n_layers: 8 }],
    ];
const rows: (string | number)[][] = [];
for (const [label, model] of models) rows.push(await bench(label, model));
console.log(`Evaluation benchmark (${environment()}, onnxruntime-node CPU, 1 intra-op thread, median of ${RUNS})\n`);
console.log(
  table(
    [
      "model",
      "parameters",
      "gradient file",
      "decode ms",
      "apply ms",
      "3 forwards ms",
      "restore ms",
      "total ms",
      "total ÷ forwards",
      "submissions/min",
    ],
    rows.map((r) => r.map((v) => (typeof v === "number" ? format(v) : v))),
  ),
);

if (args["templar-150m"]) {
  const { header, rows: llamaRows } = await llamaEvalTable("templar-150m", 1);
  console.log(
    `\nTemplar 150M (llama, 215.0M parameters), one submission = 3 forwards of 1 × 2048 tokens, onnxruntime-node CPU, 1 intra-op thread\n`,
  );
  console.log(table(header, llamaRows));
}
