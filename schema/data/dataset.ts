/**
 * The dataset as published in the artifacts bucket: tokens in shards, a training and a held-out
 * split, and a manifest.
 *
 * Version 1 (the byte-level model): one token per byte, shards of raw bytes; sample i of a split
 * is the seq_len + 1 tokens starting at token i·seq_len (seq_len inputs and, shifted by one,
 * their targets). Version 2 (the llama family): a real tokenizer's ids in Templar's format,
 * uint32 `.npy` shards with documents ended by EOS; sample i is the seq_len tokens starting at
 * token i·seq_len (labels are the same tokens shifted inside the sample, as Templar does).
 */
import { readNpyU32 } from "./npy.ts";

export const DATA_FORMAT = "templar-edge.data";
export const DATA_MANIFEST_KEY = "data/manifest.json";

export interface DataShard {
  readonly key: string;
  readonly tokens: number;
  /** Hex SHA-256 of the shard's bytes. */
  readonly sha256: string;
  /** Version 2: the shard's Templar sample ids (`.npy` uint64 blake2b-8 of each full sample). */
  readonly sample_ids_key?: string;
}

export interface DataSplit {
  readonly tokens: number;
  readonly samples: number;
  readonly shards: readonly DataShard[];
  /** Version 2: UTF-8 bytes of the split's text per token (EOS excluded), for bits per byte. */
  readonly bytes_per_token?: number;
}

export interface DataManifest {
  readonly format: typeof DATA_FORMAT;
  readonly format_version: "1" | "2";
  readonly tokenizer: "bytes" | "llama2" | "gemma3";
  readonly source: { readonly name: string; readonly sha256: string; readonly bytes: number };
  readonly seq_len: number;
  readonly splits: { readonly train: DataSplit; readonly heldout: DataSplit };
}

/** Token ids as a split holds them: bytes (version 1) or uint32 ids (version 2). */
export type Tokens = Uint8Array | Uint32Array;

/** Tokens of one sample as the data holds them: seq_len + 1 bytes (version 1) or seq_len ids (version 2). */
export function sampleWidth(manifest: Pick<DataManifest, "format_version" | "seq_len">): number {
  return manifest.format_version === "1" ? manifest.seq_len + 1 : manifest.seq_len;
}

/** Bits per byte of a mean loss (nats per token) on a split: bytes are tokens in version 1. */
export function bitsPerByte(lossNats: number, split: Pick<DataSplit, "bytes_per_token">): number {
  return lossNats / Math.LN2 / (split.bytes_per_token ?? 1);
}

/** A shard's tokens as published: its bytes (version 1), or the uint32 ids of its `.npy` (version 2). */
export function shardTokens(
  manifest: Pick<DataManifest, "format_version">,
  bytes: Uint8Array,
  key: string,
): Uint8Array | Uint32Array {
  return manifest.format_version === "1" ? bytes : readNpyU32(bytes, key);
}

/** Samples of a split of `tokens` tokens, `width` tokens each, one every seq_len tokens. */
export function sampleCount(tokens: number, seqLen: number, width = seqLen + 1): number {
  return Math.max(0, Math.floor((tokens - width) / seqLen) + 1);
}

/**
 * The tokens of samples `ids` of a split, concatenated (ids.length × width tokens, width from
 * {@link sampleWidth}). `shard(i)` returns the tokens of the split's shard i, all of one type.
 */
export function gatherSamples<T extends Tokens>(
  split: DataSplit,
  seqLen: number,
  ids: readonly number[],
  shard: (i: number) => T,
  width = seqLen + 1,
): T {
  const first = shard(0);
  const out = new (first.constructor as new (n: number) => T)(ids.length * width);
  const starts: number[] = [];
  let at = 0;
  for (const s of split.shards) {
    starts.push(at);
    at += s.tokens;
  }
  ids.forEach((id, k) => {
    if (!Number.isInteger(id) || id < 0 || id >= split.samples)
      throw new RangeError(`sample ${id} is not in [0, ${split.samples})`);
    let from = id * seqLen;
    let filled = 0;
    while (filled < width) {
      let i = starts.length - 1;
      while ((starts[i] as number) > from) i--;
      const tokens = shard(i);
      const offset = from - (starts[i] as number);
      const take = Math.min(width - filled, tokens.length - offset);
      out.set(tokens.subarray(offset, offset + take), k * width + filled);
      filled += take;
      from += take;
    }
  });
  return out;
}
