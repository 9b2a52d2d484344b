/**
 * Orthonormal DCT-II per chunk (docs/SPEC.md §3.2): Y = D_hᵀ · X · D_w, inverse X = D_h · Y · D_wᵀ,
 * with D_n[j, k] = s_k · cos(π(2j + 1)k / 2n), s_0 = √(1/n), s_k = √(2/n).
 *
 * Chunks are at most 64×64, so plain matrix products are used; the inverse used by decoders
 * starts from the k non-zero coefficients and only touches the rows that hold one.
 */

const matrices = new Map<number, Float64Array>();

/** The n×n orthonormal DCT-II matrix, row-major D[j·n + k]; cached. */
export function dctMatrix(n: number): Float64Array {
  let d = matrices.get(n);
  if (!d) {
    d = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < n; k++) {
        const s = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
        d[j * n + k] = s * Math.cos((Math.PI * (2 * j + 1) * k) / (2 * n));
      }
    }
    matrices.set(n, d);
  }
  return d;
}

/** Forward DCT of an h×w chunk in place (1-D chunks: h = 1). `scratch` holds h·w values. */
export function dctChunk(chunk: Float64Array, h: number, w: number, scratch: Float64Array): void {
  const dw = dctMatrix(w);
  const dh = dctMatrix(h);
  // scratch = X · D_w
  for (let i = 0; i < h; i++) {
    for (let k = 0; k < w; k++) {
      let s = 0;
      for (let j = 0; j < w; j++) s += chunk[i * w + j] * dw[j * w + k];
      scratch[i * w + k] = s;
    }
  }
  // chunk = D_hᵀ · scratch
  for (let k1 = 0; k1 < h; k1++) {
    for (let k = 0; k < w; k++) {
      let s = 0;
      for (let i = 0; i < h; i++) s += dh[i * h + k1] * scratch[i * w + k];
      chunk[k1 * w + k] = s;
    }
  }
}

/** Inverse DCT of an h×w chunk in place. `scratch` holds h·w values. */
export function idctChunk(chunk: Float64Array, h: number, w: number, scratch: Float64Array): void {
  const dw = dctMatrix(w);
  const dh = dctMatrix(h);
  // scratch = Y · D_wᵀ
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      let s = 0;
      for (let k = 0; k < w; k++) s += chunk[i * w + k] * dw[j * w + k];
      scratch[i * w + j] = s;
    }
  }
  // chunk = D_h · scratch
  for (let i1 = 0; i1 < h; i1++) {
    for (let j = 0; j < w; j++) {
      let s = 0;
      for (let k1 = 0; k1 < h; k1++) s += dh[i1 * h + k1] * scratch[k1 * w + j];
      chunk[i1 * w + j] = s;
    }
  }
}

/**
 * Inverse DCT of a chunk given only its non-zero coefficients (unique positions), into `out`
 * (h·w values, overwritten). Cost: n·w for the first product plus h·R·w for the second, where
 * R ≤ n is the number of coefficient rows that hold a value.
 */
export function idctSparse(
  positions: ArrayLike<number>,
  values: ArrayLike<number>,
  n: number,
  h: number,
  w: number,
  out: Float64Array,
  rowScratch: Float64Array,
  rowUsed: Uint8Array,
): void {
  const dw = dctMatrix(w);
  const dh = dctMatrix(h);
  rowUsed.fill(0, 0, h);
  // rowScratch[r] = (Y · D_wᵀ)[r] for the rows r that hold a coefficient
  for (let t = 0; t < n; t++) {
    const p = positions[t];
    const r = Math.floor(p / w);
    const c = p - r * w;
    const v = values[t];
    const base = r * w;
    if (!rowUsed[r]) {
      rowUsed[r] = 1;
      rowScratch.fill(0, base, base + w);
    }
    for (let j = 0; j < w; j++) rowScratch[base + j] += v * dw[j * w + c];
  }
  out.fill(0, 0, h * w);
  for (let r = 0; r < h; r++) {
    if (!rowUsed[r]) continue;
    const base = r * w;
    for (let i1 = 0; i1 < h; i1++) {
      const f = dh[i1 * h + r];
      const o = i1 * w;
      for (let j = 0; j < w; j++) out[o + j] += f * rowScratch[base + j];
    }
  }
}
