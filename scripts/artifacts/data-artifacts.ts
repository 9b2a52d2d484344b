/**
 * The dataset's published artifacts: a text corpus cut into a training and a held-out split of
 * byte tokens, in shards, with a manifest (schema/data/dataset.ts).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import {
  DATA_FORMAT,
  DATA_MANIFEST_KEY,
  type DataManifest,
  type DataShard,
  type DataSplit,
  sampleCount,
} from "../../schema/data/dataset.ts";
import type { Hparams } from "../../schema/hparams.ts";

function split(
  name: string,
  tokens: Uint8Array,
  seqLen: number,
  shardTokens: number,
  files: Map<string, Uint8Array>,
): DataSplit {
  const shards: DataShard[] = [];
  for (let at = 0, i = 0; at < tokens.length; at += shardTokens, i++) {
    const bytes = tokens.subarray(at, at + shardTokens);
    const key = `data/${name}-${String(i).padStart(5, "0")}.bin`;
    files.set(key, bytes);
    shards.push({ key, tokens: bytes.length, sha256: bytesToHex(sha256(bytes)) });
  }
  return { tokens: tokens.length, samples: sampleCount(tokens.length, seqLen), shards };
}

/** Every artifact of the dataset built from `corpus`, by its key in the artifacts bucket. */
export function dataArtifacts(corpus: Uint8Array, sourceName: string, hparams: Hparams): Map<string, Uint8Array> {
  const { seq_len } = hparams.model;
  const cut = Math.floor(corpus.length * (1 - hparams.data.heldout_fraction));
  const files = new Map<string, Uint8Array>();
  const manifest: DataManifest = {
    format: DATA_FORMAT,
    format_version: "1",
    tokenizer: "bytes",
    source: { name: sourceName, sha256: bytesToHex(sha256(corpus)), bytes: corpus.length },
    seq_len,
    splits: {
      train: split("train", corpus.subarray(0, cut), seq_len, hparams.data.shard_tokens, files),
      heldout: split("heldout", corpus.subarray(cut), seq_len, hparams.data.shard_tokens, files),
    },
  };
  files.set(DATA_MANIFEST_KEY, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return files;
}
