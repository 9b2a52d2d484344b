/**
 * Top-k by magnitude within one chunk, in expected O(n).
 *
 * Ties at the threshold go to the lower index, and the chosen indices come out ascending, so
 * the same chunk always gives the same selection (Templar leaves both unspecified).
 */
import { EdgeError } from "../errors.ts";
import { chunkOrigin, gatherChunk, type ParamLayout } from "./chunking.ts";
import { dctChunk } from "./dct.ts";

/**
 * The top-k of chunks [from, to) of one parameter (its flat float32 values; DCT first when
 * `useDct`): chunk c's indices ascending into indices[c·k …], their values into values[c·k …].
 * Throws NON_FINITE on a non-finite value. Each chunk's result depends on that chunk alone, so
 * any split of the chunks between threads gives the same arrays.
 */
export function selectChunks(
  dense: Float32Array,
  layout: ParamLayout,
  useDct: boolean,
  indices: Uint16Array,
  values: Float32Array,
  from: number,
  to: number,
): void {
  if (useDct) selectChunksReference(dense, layout, true, indices, values, from, to);
  else selectChunksByBits(dense, layout, indices, values, from, to);
}

/**
 * selectChunks the plain way: gather each chunk as float64, DCT it when `useDct`, quickselect
 * by |x|. The DCT path; without the DCT, the oracle the fast path is tested against.
 */
export function selectChunksReference(
  dense: Float32Array,
  layout: ParamLayout,
  useDct: boolean,
  indices: Uint16Array,
  values: Float32Array,
  from: number,
  to: number,
): void {
  const { totalk, k, h, w } = layout;
  const chunk = new Float64Array(totalk);
  const scratch = new Float64Array(totalk);
  const picked = new Uint16Array(k);
  for (let c = from; c < to; c++) {
    gatherChunk(dense, layout, c, chunk);
    for (let i = 0; i < totalk; i++) {
      if (!Number.isFinite(chunk[i])) throw nonFinite(layout, c);
    }
    if (useDct) dctChunk(chunk, h, w, scratch);
    selectTopK(chunk, totalk, k, picked, scratch);
    for (let t = 0; t < k; t++) {
      indices[c * k + t] = picked[t] as number;
      values[c * k + t] = chunk[picked[t] as number] as number;
    }
  }
}

/** The fault of chunk c holding an Inf or NaN. */
function nonFinite(layout: ParamLayout, c: number): EdgeError {
  return new EdgeError("NON_FINITE", `parameter ${layout.name} holds a non-finite value in chunk ${c}`);
}

/** Float32 bits of +Inf with the sign cleared: magnitudes at or above it are Inf or NaN. */
const NON_FINITE_BITS = 0x7f800000;

/**
 * A faster first pass for selectChunksByBits (a WebAssembly SIMD kernel, say). `scan` finds the
 * elements of the chunk at dense[origin …] whose bits & 0x7fffffff exceed `threshold` (signed
 * compare) and returns how many; `found` then holds, for the t-th in element order, its element
 * number (row · w + column) at 2t and its float32 bits at 2t + 1.
 */
export interface ChunkScanner {
  scan(origin: number, threshold: number): number;
  readonly found: Int32Array;
}

/**
 * Top-k of chunks [from, to) without the DCT, read as float32 bits in place. For finite floats,
 * bits & 0x7fffffff orders like |x| (+0 and −0 alike), so each element costs one load, one
 * mask and one compare against a threshold: the magnitude that the previous chunk ranked 2k-th.
 * Only elements above it become candidates (about 2k when neighbouring chunks look alike), and
 * the exact top-k is taken among those by the key (magnitude, 4095 − element number), which is
 * the reference order: magnitude descending, ties to the lower element. When fewer than k pass,
 * the threshold drops and the chunk is scanned again, so the guess changes the speed only.
 * Non-finite values always pass (their bits are above any threshold), and throw NON_FINITE.
 */
export function selectChunksByBits(
  dense: Float32Array,
  layout: ParamLayout,
  indices: Uint16Array,
  values: Float32Array,
  from: number,
  to: number,
  scan?: ChunkScanner,
): void {
  const { totalk, k, h, w, cols } = layout;
  // Int32, not Uint32: negative floats would read above 2^31 and leave the small-integer fast path.
  const bits = new Int32Array(dense.buffer, dense.byteOffset, dense.length);
  const candIdx = new Int32Array(totalk);
  const candKey = new Float64Array(totalk);
  // Each candidate's float32 bits, read back as its value through the aliasing view.
  const candBits = new Int32Array(totalk);
  const candValue = new Float32Array(candBits.buffer);
  const work = new Float64Array(totalk);
  // The 2k-th magnitude leaves a margin of k candidates for the next chunk's own spread.
  const spare = Math.min(2 * k, totalk);
  let threshold = -1; // every magnitude passes: the first chunk has nothing to guess from
  for (let c = from; c < to; c++) {
    const origin = chunkOrigin(layout, c);
    let n = 0;
    for (;;) {
      if (scan) n = keysOfCandidates(layout, c, origin, threshold, scan, candIdx, candKey, candBits);
      else {
        n = 0;
        for (let r = 0, row = origin, i = 0; r < h; r++, row += cols) {
          for (let j = 0; j < w; j++, i++) {
            const x = bits[row + j] as number;
            const m = x & 0x7fffffff;
            if (m > threshold) {
              if (m >= NON_FINITE_BITS) throw nonFinite(layout, c);
              candIdx[n] = i;
              candBits[n] = x;
              candKey[n++] = m * 4096 + (4095 - i);
            }
          }
        }
      }
      if (n >= k) break;
      // Too few: a quarter of the magnitude (two exponent steps) per retry, then everything.
      threshold = threshold >= 0x01000000 ? threshold - 0x01000000 : -1;
    }
    for (let t = 0; t < n; t++) work[t] = candKey[t] as number;
    // Keys are distinct (the element number is in them), so the k-th largest splits cleanly.
    if (n > spare) {
      // One under the 2k-th magnitude, so that element itself would pass.
      threshold = Math.floor(nthLargest(work, 0, n, spare) / 4096) - 1;
      nthLargest(work, n - spare, n, k);
    } else {
      // Between k and 2k passed: the threshold still served, so it stays.
      nthLargest(work, 0, n, k);
    }
    const kth = work[n - k] as number;
    // Candidates came in element order, so keeping those at or above the k-th key gives ascending indices.
    let o = c * k;
    for (let t = 0; t < n; t++) {
      if ((candKey[t] as number) >= kth) {
        indices[o] = candIdx[t] as number;
        values[o++] = candValue[t] as number;
      }
    }
  }
}

/** The scanner's candidates of chunk c with their keys and bits, as the inline scan of selectChunksByBits makes them. */
function keysOfCandidates(
  layout: ParamLayout,
  c: number,
  origin: number,
  threshold: number,
  scanner: ChunkScanner,
  candIdx: Int32Array,
  candKey: Float64Array,
  candBits: Int32Array,
): number {
  const n = scanner.scan(origin, threshold);
  const found = scanner.found;
  for (let t = 0; t < n; t++) {
    const i = found[2 * t] as number;
    const x = found[2 * t + 1] as number;
    const m = x & 0x7fffffff;
    if (m >= NON_FINITE_BITS) throw nonFinite(layout, c);
    candIdx[t] = i;
    candBits[t] = x;
    candKey[t] = m * 4096 + (4095 - i);
  }
  return n;
}

/** Writes the indices of the k largest |values[0..n)| into out[0..k), ascending. */
export function selectTopK(values: Float64Array, n: number, k: number, out: Uint16Array, scratch: Float64Array): void {
  for (let i = 0; i < n; i++) scratch[i] = Math.abs(values[i]);
  const threshold = nthLargest(scratch, 0, n, k);
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(values[i]) > threshold) above++;
  let ties = k - above;
  let o = 0;
  for (let i = 0; i < n && o < k; i++) {
    const a = Math.abs(values[i]);
    if (a > threshold || (a === threshold && ties-- > 0)) out[o++] = i;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/**
 * Reorders a[lo..hi) so that its n largest (distinct values) occupy a[hi − n, hi), the n-th
 * largest at a[hi − n]; returns that value. Hoare quickselect with median of three.
 */
function nthLargest(a: Float64Array, lo: number, hi: number, n: number): number {
  const target = hi - n;
  let l = lo;
  let r = hi - 1;
  while (l < r) {
    const mid = (l + r) >> 1;
    if (a[mid] < a[l]) swap(a, mid, l);
    if (a[r] < a[l]) swap(a, r, l);
    if (a[r] < a[mid]) swap(a, r, mid);
    const pivot = a[mid];
    let i = l;
    let j = r;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (target <= j) r = j;
    else if (target >= i) l = i;
    else break;
  }
  return a[target] as number;
}
