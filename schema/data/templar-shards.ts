/**
 * Templar's pre-tokenized dataset (src/tplr/sharded_dataset.py,
 * scripts/dataset_prep/01_pretokenize_data.py): `train_{shard:06d}.npy` holds uint32 tokens, each
 * document encoded without BOS and followed by EOS, documents concatenated across sample
 * boundaries; sample i is tokens[i·L : (i+1)·L] (L = 2048); `sample_ids_{shard:06d}.npy` holds,
 * per full sample, the little-endian uint64 of blake2b(digest_size=8) over the sample's bytes.
 */
import { blake2b } from "@noble/hashes/blake2.js";

/** Templar's sample length in tokens. */
export const TEMPLAR_SEQ_LEN = 2048;

/** File name of a shard's tokens (`train_000000.npy`). */
export function tokenShardName(shard: number): string {
  return `train_${String(shard).padStart(6, "0")}.npy`;
}

/** File name of a shard's sample ids (`sample_ids_000000.npy`). */
export function sampleIdsName(shard: number): string {
  return `sample_ids_${String(shard).padStart(6, "0")}.npy`;
}

/** Concatenates encoded documents, each followed by `eosId`, into one token stream. */
export function concatDocuments(documents: Iterable<readonly number[]>, eosId: number): Uint32Array {
  const parts: (readonly number[])[] = [];
  let total = 0;
  for (const doc of documents) {
    parts.push(doc);
    total += doc.length + 1;
  }
  const out = new Uint32Array(total);
  let at = 0;
  for (const doc of parts) {
    out.set(doc, at);
    at += doc.length;
    out[at++] = eosId;
  }
  return out;
}

/** Sample id of one sample: LE uint64 of blake2b (8-byte digest) over its uint32 LE bytes. */
export function sampleId(sample: Uint32Array): bigint {
  const bytes = new Uint8Array(sample.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < sample.length; i++) view.setUint32(i * 4, sample[i] as number, true);
  const digest = blake2b(bytes, { dkLen: 8 });
  return new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0, true);
}

/** Ids of every full sample of `tokens` (a trailing partial sample has none, as in Templar). */
export function sampleIds(tokens: Uint32Array, seqLen: number = TEMPLAR_SEQ_LEN): BigUint64Array {
  const n = Math.floor(tokens.length / seqLen);
  const out = new BigUint64Array(n);
  for (let i = 0; i < n; i++) out[i] = sampleId(tokens.subarray(i * seqLen, (i + 1) * seqLen));
  return out;
}

/** Sample i of a shard: tokens[i·L : (i+1)·L]; samples = min(⌊tokens/L⌋, ids). */
export function templarSample(tokens: Uint32Array, i: number, seqLen: number = TEMPLAR_SEQ_LEN): Uint32Array {
  const count = Math.floor(tokens.length / seqLen);
  if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`sample ${i} is not in [0, ${count})`);
  return tokens.subarray(i * seqLen, (i + 1) * seqLen);
}
