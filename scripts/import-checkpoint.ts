/**
 * Imports a Hugging Face LlamaForCausalLM checkpoint as a llama profile's θ_0: the validator's
 * initial checkpoint, with the manifest and loss graph beside it, ready for `publish-artifacts`.
 *
 *   npm run import-checkpoint -- --hf DIR --profile P [--dtype f32|bf16] [--out DIR]
 *
 * DIR holds `model.safetensors` or `model.safetensors.index.json` and its shards (F32, F16 or
 * BF16), and usually `config.json`, which must describe the profile's shape. The default output is
 * `.artifacts/<profile>`. A tensor missing, extra or of another shape is refused, naming it.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { llamaModel } from "../gpu-runner/model/family.ts";
import { importHfCheckpoint } from "../gpu-runner/model/import-hf.ts";
import { EdgeError } from "../schema/errors.ts";
import { getHparams } from "../schema/hparams.ts";
import { INITIAL_CHECKPOINT_KEY } from "../schema/model/keys.ts";
import { artifactsDir, writeArtifacts } from "./artifacts/files.ts";
import { modelArtifacts } from "./artifacts/model-artifacts.ts";

const { values } = parseArgs({
  options: {
    hf: { type: "string" },
    profile: { type: "string" },
    dtype: { type: "string", default: "f32" },
    out: { type: "string" },
  },
});

try {
  if (!values.hf || !values.profile)
    throw new EdgeError("BAD_REQUEST", "usage: --hf DIR --profile P [--dtype f32|bf16] [--out DIR]");
  if (values.dtype !== "f32" && values.dtype !== "bf16")
    throw new EdgeError("BAD_REQUEST", "--dtype must be f32 or bf16");
  const hparams = getHparams(values.profile);
  const model = llamaModel(hparams, "import-checkpoint");
  const dir = values.out ?? artifactsDir(hparams.profile);
  const out = path.join(dir, INITIAL_CHECKPOINT_KEY);
  mkdirSync(path.dirname(out), { recursive: true });
  const started = Date.now();
  const imported = await importHfCheckpoint({
    hf: values.hf,
    config: model.config,
    out,
    dtype: values.dtype === "bf16" ? "BF16" : "F32",
    log: (line) => process.stderr.write(`${line}\n`),
  });
  writeArtifacts(dir, modelArtifacts(hparams, { sha256: imported.sha256, source: path.resolve(values.hf) }));
  console.log(
    `${out}: ${imported.tensors} tensors, ${imported.parameters.toLocaleString("en-US")} parameters, ` +
      `${imported.bytes} bytes (${values.dtype}), sha256 ${imported.sha256}, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(
    `${dir}: manifest and loss graph written beside it; publish with npm run publish-artifacts -- --profile ${hparams.profile}`,
  );
} catch (e) {
  if (!(e instanceof EdgeError)) throw e;
  console.error(`import-checkpoint: ${e.code}: ${e.message}`);
  process.exit(2);
}
