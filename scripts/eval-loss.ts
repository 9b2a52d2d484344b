/**
 * A checkpoint's loss on token samples, for an operator checking a checkpoint:
 *
 *   npm run eval-loss -- --profile P --checkpoint FILE --samples FILE.npy [--max-samples N] [--json]
 *
 * FILE is a validator checkpoint (F32 or BF16; e.g. from import-checkpoint or an outer step);
 * FILE.npy holds uint32 token ids (Templar's `train_NNNNNN.npy`, or prepare-data's), read as
 * consecutive samples of the profile's seq_len. Prints the mean loss (nats), bits per byte (from
 * the UTF-8 bytes the scored tokens decode to with the profile's tokenizer) and each sample's loss.
 */
import { open, readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { checkpointLoss } from "../gpu-runner/checkpoint-loss.ts";
import { llamaModel, modelManifest } from "../gpu-runner/model/family.ts";
import { checkNpySize, MAX_HEADER_BYTES, parseNpyHeader } from "../schema/data/npy.ts";
import { EdgeError } from "../schema/errors.ts";
import { getHparams } from "../schema/hparams.ts";
import { readCheckpoint } from "../schema/model/checkpoint.ts";
import { loadTokenizer } from "./data/tokenizer.ts";

const { values } = parseArgs({
  options: {
    profile: { type: "string" },
    checkpoint: { type: "string" },
    samples: { type: "string" },
    "max-samples": { type: "string", default: "64" },
    json: { type: "boolean", default: false },
  },
});

/** The first `count` samples of `seqLen` ids of a uint32 `.npy`, read with positional reads (shards may be huge). */
async function readSamples(file: string, seqLen: number, max: number): Promise<Uint32Array> {
  const handle = await open(file, "r").catch((e) => {
    throw new EdgeError("DATA_FILE_INVALID", `${file}: cannot open`, { reason: "missing", file }, { cause: e });
  });
  try {
    const size = (await handle.stat()).size;
    const head = new Uint8Array(Math.min(size, 12 + MAX_HEADER_BYTES));
    await handle.read(head, 0, head.length, 0);
    const header = parseNpyHeader(head, file, "<u4");
    checkNpySize(header, size, file);
    const count = Math.min(max, Math.floor(header.length / seqLen));
    if (count === 0)
      throw new EdgeError("DATA_FILE_INVALID", `${file}: ${header.length} ids hold no ${seqLen}-token sample`, {
        reason: "truncated",
        file,
      });
    const bytes = new Uint8Array(count * seqLen * 4);
    await handle.read(bytes, 0, bytes.length, header.dataOffset);
    return new Uint32Array(bytes.buffer);
  } finally {
    await handle.close();
  }
}

try {
  if (!values.profile || !values.checkpoint || !values.samples)
    throw new EdgeError(
      "BAD_REQUEST",
      "usage: --profile P --checkpoint FILE --samples FILE.npy [--max-samples N] [--json]",
    );
  const max = Number(values["max-samples"]);
  if (!Number.isSafeInteger(max) || max < 1)
    throw new EdgeError("BAD_REQUEST", "--max-samples takes a positive integer");
  const hparams = getHparams(values.profile);
  const model = llamaModel(hparams, "eval-loss");
  const manifest = modelManifest(hparams.model);
  const params = readCheckpoint(new Uint8Array(await readFile(values.checkpoint)), manifest).params;
  const samples = await readSamples(values.samples, model.seq_len, max);
  const tokenizer = await loadTokenizer(model.tokenizer);
  const started = Date.now();
  const result = await checkpointLoss({ hparams, params, samples, decode: (ids) => tokenizer.decode(ids) });
  if (values.json) {
    console.log(JSON.stringify({ profile: hparams.profile, checkpoint: values.checkpoint, ...result }, null, 2));
  } else {
    console.log(
      `${hparams.profile} on ${result.samples} samples of ${model.seq_len} tokens: mean loss ${result.mean_loss.toFixed(4)} nats, ` +
        `${result.bits_per_byte.toFixed(4)} bits per byte (${result.scored_tokens} scored tokens, ${result.scored_bytes} bytes), ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    console.log(`per sample: ${result.per_sample.map((l) => l.toFixed(4)).join(" ")}`);
  }
} catch (e) {
  if (!(e instanceof EdgeError)) throw e;
  console.error(`eval-loss: ${e.code}: ${e.message}`);
  process.exit(2);
}
