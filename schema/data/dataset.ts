/**
 * The dataset as published in the artifacts bucket: byte-level tokens (one token per byte) in
 * shards, a training and a held-out split, and a manifest. Sample i of a split is the
 * seq_len + 1 tokens starting at token i·seq_len: seq_len inputs and, shifted by one, their
 * targets.
 */

export const DATA_FORMAT = "templar-edge.data";
export const DATA_MANIFEST_KEY = "data/manifest.json";

export interface DataShard {
  readonly key: string;
  readonly tokens: number;
  /** Hex SHA-256 of the shard's bytes. */
  readonly sha256: string;
}

export interface DataSplit {
  readonly tokens: number;
  readonly samples: number;
  readonly shards: readonly DataShard[];
}

export interface DataManifest {
  readonly format: typeof DATA_FORMAT;
  readonly format_version: "1";
  readonly tokenizer: "bytes";
  readonly source: { readonly name: string; readonly sha256: string; readonly bytes: number };
  readonly seq_len: number;
  readonly splits: { readonly train: DataSplit; readonly heldout: DataSplit };
}

/** Samples of a split of `tokens` tokens: every full seq_len + 1 window at multiples of seq_len. */
export function sampleCount(tokens: number, seqLen: number): number {
  return Math.max(0, Math.floor((tokens - 1) / seqLen));
}

/**
 * The tokens of samples `ids` of a split, concatenated (ids.length × (seq_len + 1) bytes).
 * `shard(i)` returns the bytes of the split's shard i.
 */
export function gatherSamples(
  split: DataSplit,
  seqLen: number,
  ids: readonly number[],
  shard: (i: number) => Uint8Array,
): Uint8Array {
  const width = seqLen + 1;
  const out = new Uint8Array(ids.length * width);
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
      const bytes = shard(i);
      const offset = from - (starts[i] as number);
      const take = Math.min(width - filled, bytes.length - offset);
      out.set(bytes.subarray(offset, offset + take), k * width + filled);
      filled += take;
      from += take;
    }
  });
  return out;
}
