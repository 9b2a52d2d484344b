/**
 * A corpus in Templar's pre-tokenized format (src/tplr/sharded_dataset.py,
 * scripts/dataset_prep/01_pretokenize_data.py): each document encoded without BOS and followed by
 * EOS, documents concatenated across sample boundaries, one shard `train_000000.npy` (uint32) and
 * its `sample_ids_000000.npy` (uint64 blake2b ids of the full samples).
 */
import { writeNpyU32, writeNpyU64 } from "../../schema/data/npy.ts";
import {
  concatDocuments,
  sampleIds,
  sampleIdsName,
  TEMPLAR_SEQ_LEN,
  tokenShardName,
} from "../../schema/data/templar-shards.ts";
import type { TextTokenizer } from "./tokenizer.ts";

/** How a corpus file splits into documents: the whole file, or paragraphs at blank lines. */
export type DocumentSplit = "file" | "paragraphs";

/** A prepared shard and what it measured. */
export interface TemplarData {
  /** File name → bytes (train_000000.npy, sample_ids_000000.npy). */
  readonly files: Map<string, Uint8Array>;
  readonly documents: number;
  /** Tokens in the shard, EOS included. */
  readonly tokens: number;
  readonly samples: number;
  /** UTF-8 bytes of the documents' text (no EOS). */
  readonly textBytes: number;
  /** Text bytes per text token (EOS excluded): bits per byte = loss / ln 2 ÷ this. */
  readonly bytesPerToken: number;
}

/** Splits a corpus into documents. */
export function splitDocuments(text: string, split: DocumentSplit): string[] {
  if (split === "file") return text.length > 0 ? [text] : [];
  return text
    .split(/\n[ \t]*\n/)
    .map((d) => d.trim())
    .filter((d) => d.length > 0);
}

/** Tokenizes documents into one Templar shard of `seqLen`-token samples. */
export function templarData(
  documents: readonly string[],
  tokenizer: TextTokenizer,
  seqLen: number = TEMPLAR_SEQ_LEN,
): TemplarData {
  if (!Number.isSafeInteger(seqLen) || seqLen < 1) throw new RangeError(`seq_len ${seqLen} is not a positive integer`);
  const encoder = new TextEncoder();
  let textBytes = 0;
  const encoded = documents.map((doc) => {
    textBytes += encoder.encode(doc).length;
    return tokenizer.encode(doc);
  });
  const tokens = concatDocuments(encoded, tokenizer.eosId);
  const ids = sampleIds(tokens, seqLen);
  const textTokens = tokens.length - documents.length;
  return {
    files: new Map([
      [tokenShardName(0), writeNpyU32(tokens)],
      [sampleIdsName(0), writeNpyU64(ids)],
    ]),
    documents: documents.length,
    tokens: tokens.length,
    samples: ids.length,
    textBytes,
    bytesPerToken: textTokens > 0 ? textBytes / textTokens : 0,
  };
}
