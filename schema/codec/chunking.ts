/**
 * How a parameter is cut into chunks (Templar's ChunkingTransformer; docs/SPEC.md §3.1).
 *
 * A 2-D parameter [R, C] becomes a grid of h×w chunks with h = split(R), w = split(C); a 1-D
 * parameter [N] becomes N/w chunks of w. Element i of a chunk is (i / w, i % w) inside it.
 * 1-D parameters are handled as R = 1, h = 1 so one formula serves both.
 */

import { EdgeError } from "../errors.ts";
import type { CompressionHparams } from "../hparams.ts";
import { assertValidManifest, type ModelManifest, numel, type ParameterSpec } from "../model/manifest.ts";

/** Indices are 12-bit, so a chunk can hold at most 4096 elements. */
export const MAX_CHUNK_ELEMENTS = 4096;

/** Largest divisor of n that is <= target (n itself when n <= target). */
export function largestDivisorAtMost(n: number, target: number): number {
  if (n <= target) return n;
  for (let d = target; d > 1; d--) if (n % d === 0) return d;
  return 1;
}

export interface ParamLayout {
  readonly name: string;
  readonly shape: readonly number[];
  readonly numel: number;
  /** Rows and columns of the parameter seen as a matrix (1-D: one row). */
  readonly rows: number;
  readonly cols: number;
  /** Chunk height and width (1-D: h = 1). */
  readonly h: number;
  readonly w: number;
  /** Chunk grid as the leading dims of the index and code tensors: [R/h, C/w] or [N/w]. */
  readonly grid: readonly number[];
  readonly gridCols: number;
  readonly chunks: number;
  /** Elements per chunk. */
  readonly totalk: number;
  /** Coordinates kept per chunk. */
  readonly k: number;
  /** Bytes per chunk of 2-bit codes (4 per byte); the indices' depend on the format version (index-coding.ts). */
  readonly codeBytesPerChunk: number;
}

/** Templar's _clamp_topk: min(topk, totalk), made even. Chunks under 2 elements cannot be coded. */
export function clampTopk(topk: number, totalk: number, name: string): number {
  let k = Math.min(topk, totalk);
  k -= k % 2;
  if (k < 2)
    throw new EdgeError("MANIFEST_INVALID", `parameter ${name}: chunks of ${totalk} element(s) keep no even top-k`);
  return k;
}

/** The chunk layout of one parameter under the given compression settings. */
export function paramLayout(spec: ParameterSpec, compression: CompressionHparams): ParamLayout {
  const twoD = spec.shape.length === 2;
  const rows = twoD ? spec.shape[0] : 1;
  const cols = twoD ? spec.shape[1] : spec.shape[0];
  const h = twoD ? largestDivisorAtMost(rows, compression.target_chunk) : 1;
  const w = largestDivisorAtMost(cols, compression.target_chunk);
  const totalk = h * w;
  if (totalk > MAX_CHUNK_ELEMENTS) {
    throw new EdgeError(
      "MANIFEST_INVALID",
      `parameter ${spec.name}: chunks of ${totalk} elements exceed 12-bit indices`,
    );
  }
  const k = clampTopk(compression.topk_compression, totalk, spec.name);
  const gridCols = cols / w;
  const grid = twoD ? [rows / h, gridCols] : [gridCols];
  return {
    name: spec.name,
    shape: spec.shape,
    numel: numel(spec.shape),
    rows,
    cols,
    h,
    w,
    grid,
    gridCols,
    chunks: (rows / h) * gridCols,
    totalk,
    k,
    codeBytesPerChunk: Math.ceil(k / 4),
  };
}

/** Layouts of every parameter of a manifest, in manifest order. */
export function gradientLayout(manifest: ModelManifest, compression: CompressionHparams): ParamLayout[] {
  assertValidManifest(manifest);
  return manifest.parameters.map((p) => paramLayout(p, compression));
}

/** Offset in the flattened parameter of the first element of chunk c. */
export function chunkOrigin(layout: ParamLayout, c: number): number {
  const cy = Math.floor(c / layout.gridCols);
  const cx = c - cy * layout.gridCols;
  return cy * layout.h * layout.cols + cx * layout.w;
}

const elementOffsetTables = new WeakMap<ParamLayout, Int32Array>();

/**
 * For each element i of a chunk, its offset from the chunk's origin in the flattened parameter
 * ((i / w)·cols + i % w). Cached per layout: decoders look it up instead of dividing.
 */
export function chunkElementOffsets(layout: ParamLayout): Int32Array {
  let table = elementOffsetTables.get(layout);
  if (!table) {
    table = new Int32Array(layout.totalk);
    for (let i = 0; i < layout.totalk; i++) table[i] = Math.floor(i / layout.w) * layout.cols + (i % layout.w);
    elementOffsetTables.set(layout, table);
  }
  return table;
}

/** Copies chunk c of a dense parameter into `out` (length totalk), element order i·w + j. */
export function gatherChunk(dense: ArrayLike<number>, layout: ParamLayout, c: number, out: Float64Array): void {
  const { h, w, cols } = layout;
  let src = chunkOrigin(layout, c);
  let dst = 0;
  for (let i = 0; i < h; i++, src += cols) {
    for (let j = 0; j < w; j++) out[dst++] = dense[src + j];
  }
}

/** Writes a chunk (length totalk) back into chunk c of a dense parameter. */
export function scatterChunk(chunk: ArrayLike<number>, layout: ParamLayout, c: number, dense: Float32Array): void {
  const { h, w, cols } = layout;
  let dst = chunkOrigin(layout, c);
  let src = 0;
  for (let i = 0; i < h; i++, dst += cols) {
    for (let j = 0; j < w; j++) dense[dst + j] = chunk[src++];
  }
}
