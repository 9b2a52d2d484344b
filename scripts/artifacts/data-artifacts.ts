/**
 * The dataset's published artifacts: a text corpus cut into a training and a held-out split, in
 * shards, with a manifest (schema/data/dataset.ts): byte tokens for the byte-level model (version
 * 1), a tokenizer's ids in Templar's `.npy` format for the llama family (version 2).
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
import { writeNpyU32, writeNpyU64 } from "../../schema/data/npy.ts";
import { concatDocuments, sampleIds } from "../../schema/data/templar-shards.ts";
import type { Hparams } from "../../schema/hparams.ts";
import { splitDocuments } from "../data/templar-data.ts";
import type { TextTokenizer } from "../data/tokenizer.ts";

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

/** One split of token ids in Templar's format: `<name>_000000.npy` shards and their sample ids. */
function tokenSplit(
  name: string,
  documents: readonly string[],
  tokenizer: TextTokenizer,
  seqLen: number,
  shardTokens: number,
  files: Map<string, Uint8Array>,
): DataSplit {
  const encoder = new TextEncoder();
  const textBytes = documents.reduce((n, d) => n + encoder.encode(d).length, 0);
  const tokens = concatDocuments(
    documents.map((d) => tokenizer.encode(d)),
    tokenizer.eosId,
  );
  // Whole samples per shard, as Templar's shards hold them.
  const perShard = Math.max(seqLen, Math.floor(shardTokens / seqLen) * seqLen);
  const shards: DataShard[] = [];
  for (let at = 0, i = 0; at < tokens.length; at += perShard, i++) {
    const part = tokens.subarray(at, at + perShard);
    const key = `data/${name}_${String(i).padStart(6, "0")}.npy`;
    const idsKey = `data/sample_ids_${name}_${String(i).padStart(6, "0")}.npy`;
    const bytes = writeNpyU32(part);
    files.set(key, bytes);
    files.set(idsKey, writeNpyU64(sampleIds(part, seqLen)));
    shards.push({ key, tokens: part.length, sha256: bytesToHex(sha256(bytes)), sample_ids_key: idsKey });
  }
  const textTokens = tokens.length - documents.length;
  return {
    tokens: tokens.length,
    samples: sampleCount(tokens.length, seqLen, seqLen),
    shards,
    bytes_per_token: textTokens > 0 ? textBytes / textTokens : 1,
  };
}

/**
 * Every artifact of a token dataset (version 2) for a llama profile: the corpus cut into
 * documents at blank lines, each encoded without BOS and ended by EOS, the last heldout_fraction
 * of documents (by bytes) held out.
 */
export function tokenDataArtifacts(
  corpus: Uint8Array,
  sourceName: string,
  hparams: Hparams,
  tokenizer: TextTokenizer,
): Map<string, Uint8Array> {
  const { seq_len } = hparams.model;
  const documents = splitDocuments(new TextDecoder().decode(corpus), "paragraphs");
  const total = documents.reduce((n, d) => n + d.length, 0);
  let cut = 0;
  for (let seen = 0; cut < documents.length && seen < total * (1 - hparams.data.heldout_fraction); cut++)
    seen += (documents[cut] as string).length;
  const files = new Map<string, Uint8Array>();
  const shard = hparams.data.shard_tokens;
  const manifest: DataManifest = {
    format: DATA_FORMAT,
    format_version: "2",
    tokenizer: tokenizer.name as DataManifest["tokenizer"],
    source: { name: sourceName, sha256: bytesToHex(sha256(corpus)), bytes: corpus.length },
    seq_len,
    splits: {
      train: tokenSplit("train", documents.slice(0, cut), tokenizer, seq_len, shard, files),
      heldout: tokenSplit("heldout", documents.slice(cut), tokenizer, seq_len, shard, files),
    },
  };
  files.set(DATA_MANIFEST_KEY, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return files;
}
