/**
 * Value quantization (Templar's TopKCompressor._quantize_values; docs/SPEC.md §3.4).
 *
 * Over all selected values of one parameter: shift = mean, centred c = v − shift,
 * scale = range·σ/bins (σ with n − 1), code = clamp(round_half_even(c/scale + bins/2), 0, bins − 1),
 * lookup[b] = mean of c over the values coded b (0 if none). Decoding is lookup[code] + shift;
 * scale is not needed to decode and is not stored.
 */

export interface Quantized {
  /** One code per value. */
  readonly codes: Uint8Array;
  /** float32 per bin: mean of the centred values in that bin. */
  readonly lookup: Float32Array;
  /** float32 mean of the values. */
  readonly shift: number;
  /** range·σ/bins, or 1 when that is 0 or not finite; kept for inspection only. */
  readonly scale: number;
}

/** Round half to even, as torch.round does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Quantizes float32 values into `bins` codes with a lookup of bin means and a shift. */
export function quantize(values: ArrayLike<number>, bins: number, range: number): Quantized {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const shift = Math.fround(n > 0 ? sum / n : 0);
  const centred = new Float32Array(n);
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const c = Math.fround(values[i] - shift);
    centred[i] = c;
    sq += c * c;
  }
  // The norm of a float32 tensor is a float32 (torch, numpy); the rest is float64, as Templar's
  // published vectors have it. docs/SPEC.md §3.4 states each step for independent encoders.
  const std = Math.fround(Math.sqrt(sq)) / Math.sqrt(n - 1);
  let scale = (range * std) / bins;
  if (scale === 0 || !Number.isFinite(scale)) scale = 1;
  const offset = Math.floor(bins / 2);
  const codes = new Uint8Array(n);
  const binSum = new Float64Array(bins);
  const binCount = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const c = centred[i];
    const q = Math.min(bins - 1, Math.max(0, roundHalfEven(c / scale + offset)));
    codes[i] = q;
    binSum[q] += c;
    binCount[q] += 1;
  }
  const lookup = new Float32Array(bins);
  for (let b = 0; b < bins; b++) lookup[b] = binCount[b] ? binSum[b] / binCount[b] : 0;
  return { codes, lookup, shift, scale };
}

/** The float32 value each code decodes to: lookup[b] + shift, rounded to float32. */
export function binValues(lookup: ArrayLike<number>, shift: number): Float32Array {
  const out = new Float32Array(lookup.length);
  for (let b = 0; b < lookup.length; b++) out[b] = lookup[b] + shift;
  return out;
}
