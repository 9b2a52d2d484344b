/**
 * Turns a text corpus into a dataset.
 *
 *   npm run prepare-data -- [--profile P] [--corpus FILE] [--out DIR]
 *     the profile's published dataset in DIR/data/ (what the runner and the miner read): a
 *     training and a held-out split and a manifest, byte-token shards for a byte profile, the
 *     profile's tokenizer's ids in Templar's .npy shards (format 2) for a llama profile
 *
 *   npm run prepare-data -- --tokenizer bytes|llama2|gemma3 [--corpus FILE] [--out DIR]
 *                           [--seq-len 2048] [--documents file|paragraphs]
 *     Templar's format (src/tplr/sharded_dataset.py) in DIR/templar-data/<tokenizer>/:
 *     train_000000.npy (uint32 tokens, each document followed by EOS) and sample_ids_000000.npy
 *     (uint64 blake2b ids of the seq-len-token samples); prints bytes per token.
 *
 * The corpus defaults to ../shared/data/tinyshakespeare.txt beside the clone.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { DATA_MANIFEST_KEY, type DataManifest } from "../schema/data/dataset.ts";
import { TEMPLAR_SEQ_LEN } from "../schema/data/templar-shards.ts";
import { getHparams } from "../schema/hparams.ts";
import { dataArtifacts, tokenDataArtifacts } from "./artifacts/data-artifacts.ts";
import { DEFAULT_CORPUS } from "./artifacts/ensure-artifacts.ts";
import { artifactsDir, writeArtifacts } from "./artifacts/files.ts";
import { type DocumentSplit, splitDocuments, templarData } from "./data/templar-data.ts";
import { isTokenizerName, loadTokenizer, TOKENIZER_NAMES } from "./data/tokenizer.ts";

const { values } = parseArgs({
  options: {
    profile: { type: "string", default: "local" },
    corpus: { type: "string" },
    out: { type: "string" },
    tokenizer: { type: "string" },
    "seq-len": { type: "string", default: String(TEMPLAR_SEQ_LEN) },
    documents: { type: "string", default: "file" },
  },
});
const hparams = getHparams(values.profile as string);
const corpusPath = values.corpus ?? DEFAULT_CORPUS;
if (!existsSync(corpusPath)) {
  console.error(`prepare-data: no corpus at ${corpusPath}; pass --corpus FILE (any UTF-8 text)`);
  process.exit(2);
}
const dir = values.out ?? artifactsDir(hparams.profile);

if (values.tokenizer === undefined) {
  const corpus = new Uint8Array(readFileSync(corpusPath));
  const files =
    hparams.model.family === "byte"
      ? dataArtifacts(corpus, path.basename(corpusPath), hparams)
      : tokenDataArtifacts(corpus, path.basename(corpusPath), hparams, await loadTokenizer(hparams.model.tokenizer));
  writeArtifacts(dir, files);
  const manifest: DataManifest = JSON.parse(new TextDecoder().decode(files.get(DATA_MANIFEST_KEY)));
  const { train, heldout } = manifest.splits;
  console.log(
    `${dir}/data: ${train.samples} training and ${heldout.samples} held-out samples of ${manifest.seq_len} ${manifest.tokenizer} tokens ` +
      `(${(train.bytes_per_token ?? 1).toFixed(4)} bytes per token)`,
  );
} else {
  const name = values.tokenizer;
  const seqLen = Number(values["seq-len"]);
  const split = values.documents as DocumentSplit;
  if (!isTokenizerName(name)) usage(`--tokenizer must be one of ${TOKENIZER_NAMES.join(", ")}`);
  if (!Number.isSafeInteger(seqLen) || seqLen < 1) usage("--seq-len must be a positive integer");
  if (split !== "file" && split !== "paragraphs") usage("--documents must be file or paragraphs");
  const tokenizer = await loadTokenizer(name);
  const text = readFileSync(corpusPath, "utf8");
  const data = templarData(splitDocuments(text, split), tokenizer, seqLen);
  const out = path.join(dir, "templar-data", name);
  writeArtifacts(out, data.files);
  console.log(
    `${out}: ${data.documents} documents, ${data.tokens} tokens (EOS ${tokenizer.eosId} after each), ` +
      `${data.samples} samples of ${seqLen} tokens; vocab ${tokenizer.vocabSize}`,
  );
  console.log(
    `${name}: ${data.bytesPerToken.toFixed(4)} bytes per token on ${path.basename(corpusPath)} ` +
      `(bits per byte = loss_nats / ln 2 / ${data.bytesPerToken.toFixed(4)})`,
  );
}

function usage(message: string): never {
  console.error(`prepare-data: ${message}`);
  process.exit(2);
}
