/** A profile's model and data artifacts on disk, built the first time they are needed. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { DATA_MANIFEST_KEY } from "../../schema/data/dataset.ts";
import { getHparams } from "../../schema/hparams.ts";
import { MODEL_MANIFEST_KEY } from "../../schema/model/keys.ts";
import { loadTokenizer } from "../data/tokenizer.ts";
import { dataArtifacts, tokenDataArtifacts } from "./data-artifacts.ts";
import { artifactsDir, ROOT, writeArtifacts } from "./files.ts";
import { modelArtifacts } from "./model-artifacts.ts";

/** The corpus the local artifacts are cut from (beside the clone). */
export const DEFAULT_CORPUS = path.resolve(ROOT, "../shared/data/tinyshakespeare.txt");

/** The artifacts folder of `profile` (`.artifacts/<profile>`), building the model and data first if missing. */
export async function ensureArtifacts(
  profile: string,
  log: (line: string) => void,
  corpus = DEFAULT_CORPUS,
): Promise<string> {
  const dir = artifactsDir(profile);
  if (!existsSync(path.join(dir, MODEL_MANIFEST_KEY)) || !existsSync(path.join(dir, DATA_MANIFEST_KEY))) {
    const hparams = getHparams(profile);
    log(`building the ${profile} model and data into ${path.relative(ROOT, dir)}`);
    writeArtifacts(dir, modelArtifacts(hparams));
    const text = new Uint8Array(readFileSync(corpus));
    const name = path.basename(corpus);
    writeArtifacts(
      dir,
      hparams.model.family === "byte"
        ? dataArtifacts(text, name, hparams)
        : tokenDataArtifacts(text, name, hparams, await loadTokenizer(hparams.model.tokenizer)),
    );
  }
  return dir;
}
