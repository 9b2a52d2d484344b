/**
 * Top-k by magnitude within one chunk, in expected O(n).
 *
 * Ties at the threshold go to the lower index, and the chosen indices come out ascending, so
 * the same chunk always gives the same selection (Templar leaves both unspecified).
 */
import { EdgeError } from "../errors.ts";
import { gatherChunk, type ParamLayout } from "./chunking.ts";
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
  const { totalk, k, h, w } = layout;
  const chunk = new Float64Array(totalk);
  const scratch = new Float64Array(totalk);
  const picked = new Uint16Array(k);
  for (let c = from; c < to; c++) {
    gatherChunk(dense, layout, c, chunk);
    for (let i = 0; i < totalk; i++) {
      if (!Number.isFinite(chunk[i]))
        throw new EdgeError("NON_FINITE", `parameter ${layout.name} holds a non-finite value in chunk ${c}`);
    }
    if (useDct) dctChunk(chunk, h, w, scratch);
    selectTopK(chunk, totalk, k, picked, scratch);
    for (let t = 0; t < k; t++) {
      indices[c * k + t] = picked[t] as number;
      values[c * k + t] = chunk[picked[t] as number] as number;
    }
  }
}

/** Writes the indices of the k largest |values[0..n)| into out[0..k), ascending. */
export function selectTopK(values: Float64Array, n: number, k: number, out: Uint16Array, scratch: Float64Array): void {
  for (let i = 0; i < n; i++) scratch[i] = Math.abs(values[i]);
  const threshold = kthLargest(scratch, n, k);
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(values[i]) > threshold) above++;
  let ties = k - above;
  let o = 0;
  for (let i = 0; i < n && o < k; i++) {
    const a = Math.abs(values[i]);
    if (a > threshold || (a === threshold && ties-- > 0)) out[o++] = i;
  }
}

/** The k-th largest of a[0..n) (1-based k), reordering a; Hoare quickselect with median of three. */
function kthLargest(a: Float64Array, n: number, k: number): number {
  const target = n - k; // index of the answer in ascending order
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    // median of three into a[mid]
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
