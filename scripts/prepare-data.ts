/**
 * Turns a text corpus into the dataset's artifacts: byte-token shards of a training and a
 * held-out split, and a manifest.
 *
 *   npm run prepare-data -- [--profile local|default] [--corpus FILE] [--out DIR]
 *
 * The corpus defaults to ../shared/data/tinyshakespeare.txt beside the clone.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { getHparams } from "../schema/hparams.ts";
import { dataArtifacts } from "./artifacts/data-artifacts.ts";
import { DEFAULT_CORPUS } from "./artifacts/ensure-artifacts.ts";
import { artifactsDir, writeArtifacts } from "./artifacts/files.ts";

const { values } = parseArgs({
  options: { profile: { type: "string", default: "local" }, corpus: { type: "string" }, out: { type: "string" } },
});
const hparams = getHparams(values.profile as string);
const corpusPath = values.corpus ?? DEFAULT_CORPUS;
if (!existsSync(corpusPath)) {
  console.error(`prepare-data: no corpus at ${corpusPath}; pass --corpus FILE (any UTF-8 text)`);
  process.exit(2);
}
const dir = values.out ?? artifactsDir(hparams.profile);
const files = dataArtifacts(new Uint8Array(readFileSync(corpusPath)), path.basename(corpusPath), hparams);
writeArtifacts(dir, files);
const manifest = JSON.parse(new TextDecoder().decode(files.get("data/manifest.json")));
console.log(
  `${dir}/data: ${manifest.splits.train.samples} training and ${manifest.splits.heldout.samples} held-out samples of ${manifest.seq_len} bytes`,
);
