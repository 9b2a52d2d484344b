/**
 * Receiving side: compressed parameters → (index, value) pairs per chunk → dense or applied.
 *
 * Duplicate indices within a chunk (which the validator refuses, but aggregation across peers
 * produces) are averaged: Templar's scatter-mean. With the DCT off, applying a gradient touches
 * only the selected coordinates, so its cost grows with k, not with the parameter count.
 */
import { chunkElementOffsets, chunkOrigin, type ParamLayout } from "./chunking.ts";
import { dctMatrix, idctSparse } from "./dct.ts";
import type { CompressedParam } from "./gradient-format.ts";
import { unpackChunkIndices } from "./index-coding.ts";
import { binValues } from "./quantize.ts";

/** Decodes one chunk at a time of one compressed parameter into reusable arrays. */
export class ChunkDecoder {
  readonly layout: ParamLayout;
  /** Indices of the current chunk (k of them). */
  readonly idx: Uint16Array;
  /** Their float32 values: lookup[code] + shift. */
  readonly val: Float32Array;
  readonly #param: CompressedParam;
  readonly #bins: Float32Array;

  constructor(param: CompressedParam, layout: ParamLayout) {
    this.layout = layout;
    this.#param = param;
    this.#bins = binValues(param.lookup, param.shift);
    this.idx = new Uint16Array(layout.k);
    this.val = new Float32Array(layout.k);
  }

  /** Fills idx and val with chunk c. */
  read(c: number): void {
    const { k, codeBytesPerChunk } = this.layout;
    unpackChunkIndices(this.#param.idxs, c, this.layout, this.#param.formatVersion, this.idx);
    const codes = this.#param.codes;
    const base = c * codeBytesPerChunk;
    const bins = this.#bins;
    for (let i = 0; i < k; i++) this.val[i] = bins[(codes[base + (i >> 2)] >> ((i & 3) << 1)) & 3];
  }
}

/**
 * Per-chunk scatter-mean: collects (index, value) pairs, possibly repeated, and yields each
 * distinct index once with the mean of its values. Sized for one layout; reused across chunks.
 */
export class ScatterMean {
  /** Distinct indices of the current chunk, in first-seen order. */
  readonly positions: Int32Array;
  readonly sums: Float64Array;
  readonly counts: Int32Array;
  size = 0;
  readonly #mark: Int32Array;
  readonly #slot: Int32Array;
  #stamp = 0;

  constructor(totalk: number, capacity: number) {
    this.positions = new Int32Array(capacity);
    this.sums = new Float64Array(capacity);
    this.counts = new Int32Array(capacity);
    this.#mark = new Int32Array(totalk);
    this.#slot = new Int32Array(totalk);
  }

  /** Starts a new chunk. */
  reset(): void {
    this.size = 0;
    this.#stamp++;
  }

  add(index: number, value: number): void {
    if (this.#mark[index] === this.#stamp) {
      const s = this.#slot[index];
      this.sums[s] += value;
      this.counts[s]++;
    } else {
      const s = this.size++;
      this.#mark[index] = this.#stamp;
      this.#slot[index] = s;
      this.positions[s] = index;
      this.sums[s] = value;
      this.counts[s] = 1;
    }
  }

  /** Takes a whole chunk of k indices known to be distinct (a validated version 2 file's): no lookups. */
  setDistinct(idx: Uint16Array, val: Float32Array, k: number): void {
    this.#stamp++;
    for (let s = 0; s < k; s++) {
      this.positions[s] = idx[s] as number;
      this.sums[s] = val[s] as number;
      this.counts[s] = 1;
    }
    this.size = k;
  }

  /** Mean of the values at distinct slot s. */
  mean(s: number): number {
    return this.counts[s] === 1 ? this.sums[s] : this.sums[s] / this.counts[s];
  }
}

/**
 * Adds factor · g into target[offset …] for one parameter, where g is the scatter-mean of the
 * collected chunk values (inverse DCT applied when the gradient was coded in the DCT domain).
 * Used as is by decode (factor 1 into zeros), apply (factor −lr) and aggregation.
 */
export class ChunkAccumulator {
  readonly layout: ParamLayout;
  readonly mean: ScatterMean;
  readonly #useDct: boolean;
  readonly #offsets: Int32Array;
  readonly #dense: Float64Array;
  readonly #means: Float64Array;
  readonly #rows: Float64Array;
  readonly #rowUsed: Uint8Array;

  constructor(layout: ParamLayout, useDct: boolean, capacity: number) {
    this.layout = layout;
    this.#useDct = useDct;
    this.#offsets = chunkElementOffsets(layout);
    this.mean = new ScatterMean(layout.totalk, capacity);
    this.#dense = new Float64Array(useDct ? layout.totalk : 0);
    this.#means = new Float64Array(useDct ? capacity : 0);
    this.#rows = new Float64Array(useDct ? layout.totalk : 0);
    this.#rowUsed = new Uint8Array(useDct ? layout.h : 0);
    if (useDct) {
      dctMatrix(layout.h);
      dctMatrix(layout.w);
    }
  }

  /** Writes factor · (the collected chunk c) into target, whose parameter starts at `offset`. */
  /**
   * Writes factor · (the collected chunk c) into target, whose parameter starts at `offset`; with
   * an undo log, every position's value is recorded before it changes.
   */
  flush(target: Float32Array, offset: number, c: number, factor: number, undo?: UndoLog): void {
    const { layout, mean } = this;
    const origin = offset + chunkOrigin(layout, c);
    if (!this.#useDct) {
      const offsets = this.#offsets;
      for (let s = 0; s < mean.size; s++) {
        const at = origin + offsets[mean.positions[s]];
        undo?.record(at, target[at]);
        target[at] += factor * mean.mean(s);
      }
      return;
    }
    for (let s = 0; s < mean.size; s++) this.#means[s] = mean.mean(s);
    idctSparse(mean.positions, this.#means, mean.size, layout.h, layout.w, this.#dense, this.#rows, this.#rowUsed);
    const { h, w, cols } = layout;
    let at = origin;
    let src = 0;
    for (let i = 0; i < h; i++, at += cols) {
      for (let j = 0; j < w; j++) {
        undo?.record(at + j, target[at + j]);
        target[at + j] += factor * this.#dense[src++];
      }
    }
  }
}

/**
 * The values a gradient application overwrote, so that it can be undone exactly: restoring
 * writes them back in reverse order, which is bit-exact and costs as much as the apply did
 * (the selected coordinates), not a copy of every parameter.
 */
export class UndoLog {
  #positions = new Int32Array(1024);
  #values = new Float32Array(1024);
  #size = 0;

  /** Records that position `at` held `value`. */
  record(at: number, value: number): void {
    if (this.#size === this.#positions.length) {
      const positions = new Int32Array(this.#size * 2);
      const values = new Float32Array(this.#size * 2);
      positions.set(this.#positions);
      values.set(this.#values);
      this.#positions = positions;
      this.#values = values;
    }
    this.#positions[this.#size] = at;
    this.#values[this.#size++] = value;
  }

  /** Writes every recorded value back into `target` and empties the log. */
  restore(target: Float32Array): void {
    for (let i = this.#size - 1; i >= 0; i--) target[this.#positions[i]] = this.#values[i];
    this.#size = 0;
  }

  /** Recorded positions. */
  get size(): number {
    return this.#size;
  }
}

/**
 * Decodes one compressed parameter chunk by chunk: after chunk c's pairs are collected into
 * `mean` (each distinct index once, with the mean of its values), calls `visit(c)`.
 */
export function forEachChunkMean(
  param: CompressedParam,
  layout: ParamLayout,
  mean: ScatterMean,
  visit: (c: number) => void,
): void {
  const decoder = new ChunkDecoder(param, layout);
  const distinct = hasDistinctIndices(param);
  for (let c = 0; c < layout.chunks; c++) {
    decoder.read(c);
    if (distinct) mean.setDistinct(decoder.idx, decoder.val, layout.k);
    else {
      mean.reset();
      for (let t = 0; t < layout.k; t++) mean.add(decoder.idx[t], decoder.val[t]);
    }
    visit(c);
  }
}

/**
 * True when every chunk's indices are distinct by construction: version 2 codes them strictly
 * ascending, which the validator checks and the encoder guarantees (version 1 may repeat one in
 * a file the validator has not seen).
 */
function hasDistinctIndices(param: CompressedParam): boolean {
  return param.formatVersion === 2;
}

/** target[offset …] += factor · g for one compressed parameter. */
export function accumulateParam(
  target: Float32Array,
  offset: number,
  param: CompressedParam,
  layout: ParamLayout,
  useDct: boolean,
  factor: number,
  undo?: UndoLog,
): void {
  if (!useDct && hasDistinctIndices(param)) {
    addDistinct(target, offset, param, layout, factor, undo);
    return;
  }
  const acc = new ChunkAccumulator(layout, useDct, layout.k);
  forEachChunkMean(param, layout, acc.mean, (c) => acc.flush(target, offset, c, factor, undo));
}

/** accumulateParam's path for distinct indices, DCT off: each pair added where it points, in order. */
function addDistinct(
  target: Float32Array,
  offset: number,
  param: CompressedParam,
  layout: ParamLayout,
  factor: number,
  undo?: UndoLog,
): void {
  const decoder = new ChunkDecoder(param, layout);
  const offsets = chunkElementOffsets(layout);
  const { idx, val } = decoder;
  for (let c = 0; c < layout.chunks; c++) {
    decoder.read(c);
    const origin = offset + chunkOrigin(layout, c);
    for (let t = 0; t < layout.k; t++) {
      const at = origin + (offsets[idx[t] as number] as number);
      undo?.record(at, target[at] as number);
      target[at] += factor * (val[t] as number);
    }
  }
}

/**
 * factor · g of one compressed parameter (DCT off) as sparse pairs: flat indices into the
 * parameter, each at most once, and their float32 values, written into `indices` and `values`
 * from 0 (room for chunks · k pairs). Returns how many were written; the same numbers
 * `accumulateParam` adds, before float32 rounding of the sum.
 */
export function sparseParam(
  param: CompressedParam,
  layout: ParamLayout,
  factor: number,
  indices: Int32Array,
  values: Float32Array,
): number {
  const mean = new ScatterMean(layout.totalk, layout.k);
  const offsets = chunkElementOffsets(layout);
  let n = 0;
  forEachChunkMean(param, layout, mean, (c) => {
    const origin = chunkOrigin(layout, c);
    for (let s = 0; s < mean.size; s++) {
      indices[n] = origin + offsets[mean.positions[s]];
      values[n++] = factor * mean.mean(s);
    }
  });
  return n;
}

/** The dense gradient of one compressed parameter. */
export function decompressParam(param: CompressedParam, layout: ParamLayout, useDct: boolean): Float32Array {
  const dense = new Float32Array(layout.numel);
  accumulateParam(dense, 0, param, layout, useDct, 1);
  return dense;
}

/** θ ← θ − lr · g for every parameter of a flat vector θ laid out in manifest order; `undo` records what it overwrote. */
export function applyGradient(
  flat: Float32Array,
  params: readonly CompressedParam[],
  layouts: readonly ParamLayout[],
  useDct: boolean,
  lr: number,
  undo?: UndoLog,
): void {
  let offset = 0;
  layouts.forEach((layout, i) => {
    accumulateParam(flat, offset, params[i] as CompressedParam, layout, useDct, -lr, undo);
    offset += layout.numel;
  });
}
