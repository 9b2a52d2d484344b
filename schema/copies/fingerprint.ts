/**
 * A submission's copy fingerprint (docs/SPEC.md §6): the top-k indices of the window's sampled
 * chunks, unpacked from the file's `p.idxs` tensors. The Worker reads those bytes from R2 with
 * one ranged read per chunk; anyone holding the whole file reads them from it.
 */
import type { ParamLayout } from "../codec/chunking.ts";
import { tensorName } from "../codec/gradient-format.ts";
import { unpack12 } from "../codec/pack12.ts";

/** One sampled chunk's packed indices: where they lie in the file. */
export interface FingerprintRead {
  readonly param: string;
  readonly chunk: number;
  readonly offset: number;
  readonly length: number;
  readonly k: number;
}

/**
 * The reads a fingerprint takes: per parameter of `layouts`, each chunk `sample` picked, at the
 * byte range of its `p.idxs` tensor (`tensorRanges`: the validator's report of the file).
 */
export function fingerprintReads(
  layouts: readonly ParamLayout[],
  sample: ReadonlyMap<string, readonly number[]>,
  tensorRanges: Readonly<Record<string, readonly [number, number]>>,
): FingerprintRead[] {
  const reads: FingerprintRead[] = [];
  for (const layout of layouts) {
    const chunks = sample.get(layout.name) ?? [];
    if (!chunks.length) continue;
    const range = tensorRanges[tensorName(layout.name, "idxs")];
    if (!range) throw new Error(`no byte range for ${layout.name}.idxs`);
    for (const chunk of chunks) {
      const length = layout.idxBytesPerChunk;
      reads.push({ param: layout.name, chunk, offset: range[0] + chunk * length, length, k: layout.k });
    }
  }
  return reads;
}

/** A fingerprint as it is built and stored: per parameter, k and each sampled chunk's indices. */
export type FingerprintRecord = Record<string, { k: number; chunks: Record<number, number[]> }>;

/** The fingerprint from each read's bytes (`bytes[i]` for `reads[i]`). */
export function fingerprintOf(reads: readonly FingerprintRead[], bytes: readonly Uint8Array[]): FingerprintRecord {
  const out: FingerprintRecord = {};
  reads.forEach((r, i) => {
    out[r.param] ??= { k: r.k, chunks: {} };
    (out[r.param] as { chunks: Record<number, number[]> }).chunks[r.chunk] = Array.from(
      unpack12(bytes[i] as Uint8Array, r.k),
    );
  });
  return out;
}
