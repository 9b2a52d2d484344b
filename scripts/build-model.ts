/**
 * Writes the model's artifacts for an hparams profile: its manifest (parameter names, shapes,
 * order), its ONNX loss graph and its initial checkpoint. Same profile, same bytes.
 *
 *   npm run build-model -- [--profile local|default] [--out DIR]   (default DIR: .artifacts/<profile>)
 */
import { parseArgs } from "node:util";
import { getHparams } from "../schema/hparams.ts";
import { artifactsDir, writeArtifacts } from "./artifacts/files.ts";
import { modelArtifacts } from "./artifacts/model-artifacts.ts";

const { values } = parseArgs({ options: { profile: { type: "string", default: "local" }, out: { type: "string" } } });
const hparams = getHparams(values.profile as string);
const dir = values.out ?? artifactsDir(hparams.profile);
const files = modelArtifacts(hparams);
writeArtifacts(dir, files);
for (const [key, bytes] of files) console.log(`${dir}/${key}  ${bytes.length} bytes`);
