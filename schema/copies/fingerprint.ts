/**
 * A submission's copy fingerprint (docs/SPEC.md §6): the top-k indices of the window's sampled
 * chunks, decoded from the file's `p.idxs` tensors (either format version). The Worker reads those bytes from R2 with
 * one ranged read per chunk; anyone holding the whole file reads them from it.
 */
import type { ParamLayout } from "../codec/chunking.ts";
import type { FormatVersion } from "../codec/format-version.ts";
import { tensorName } from "../codec/gradient-format.ts";
import { indexBytesPerChunk, unpackChunkIndices } from "../codec/index-coding.ts";

/** One sampled chunk's packed indices: where they lie in the file. */
export interface FingerprintRead {
  readonly param: string;
  readonly chunk: number;
  readonly offset: number;
  readonly length: number;
  readonly layout: ParamLayout;
  readonly version: FormatVersion;
}

/**
 * The reads a fingerprint takes: per parameter of `layouts`, each chunk `sample` picked, at the
 * byte range of its `p.idxs` tensor (`tensorRanges`: the validator's report of a file of `version`).
 */
export function fingerprintReads(
  layouts: readonly ParamLayout[],
  sample: ReadonlyMap<string, readonly number[]>,
  tensorRanges: Readonly<Record<string, readonly [number, number]>>,
  version: FormatVersion,
): FingerprintRead[] {
  const reads: FingerprintRead[] = [];
  for (const layout of layouts) {
    const chunks = sample.get(layout.name) ?? [];
    if (!chunks.length) continue;
    const range = tensorRanges[tensorName(layout.name, "idxs")];
    if (!range) throw new Error(`no byte range for ${layout.name}.idxs`);
    for (const chunk of chunks) {
      const length = indexBytesPerChunk(layout, version);
      reads.push({ param: layout.name, chunk, offset: range[0] + chunk * length, length, layout, version });
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
    const got = bytes[i] as Uint8Array;
    if (got.length !== r.length)
      throw new Error(`${r.param}, chunk ${r.chunk}: read ${got.length} bytes of ${r.length}`);
    const indices = new Uint16Array(r.layout.k);
    unpackChunkIndices(got, 0, r.layout, r.version, indices);
    out[r.param] ??= { k: r.layout.k, chunks: {} };
    (out[r.param] as { chunks: Record<number, number[]> }).chunks[r.chunk] = Array.from(indices);
  });
  return out;
}
