/**
 * The transformer's building blocks, composed from the differentiable ops (so they are
 * differentiable too): RMSNorm, SiLU and causal multi-head self-attention.
 */
import type { Tape } from "./autodiff.ts";
import type { Value } from "./onnx-graph.ts";
import { add, matmul, meanLastAxis, mul, reciprocal, reshape, sigmoid, softmax, sqrt, transpose } from "./ops.ts";

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · gain. */
export function rmsNorm(t: Tape, x: Value, gain: Value, eps = 1e-5): Value {
  const meanSquare = meanLastAxis(t, mul(t, x, x));
  const inv = reciprocal(t, sqrt(t, add(t, meanSquare, t.g.scalar(eps))));
  return mul(t, mul(t, x, inv), gain);
}

/** SiLU: x · sigmoid(x). */
export function silu(t: Tape, x: Value): Value {
  return mul(t, x, sigmoid(t, x));
}

/**
 * An additive causal mask [T, T]: 0 on and below the diagonal, −1e9 above. Masked probabilities
 * come out exactly 0, and so do their gradients (−inf would risk −inf·0 = NaN backward: docs/MODEL.md §3).
 */
export function causalMask(t: Tape, length: number): Value {
  const mask = new Float64Array(length * length);
  for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) mask[i * length + j] = -1e9;
  return t.g.floats("causal_mask", mask, [length, length]);
}

/** Causal multi-head self-attention of x[B, T, d] with heads of d/H. */
export function selfAttention(
  t: Tape,
  x: Value,
  w: { q: Value; k: Value; v: Value; o: Value },
  heads: number,
  mask: Value,
): Value {
  const [b, len, d] = x.shape as [number, number, number];
  const dh = d / heads;
  const split = (v: Value) => transpose(t, reshape(t, v, [b, len, heads, dh]), [0, 2, 1, 3]); // [B, H, T, dh]
  const q = split(matmul(t, x, w.q));
  const k = split(matmul(t, x, w.k));
  const v = split(matmul(t, x, w.v));
  const scores = add(t, mul(t, matmul(t, q, transpose(t, k, [0, 1, 3, 2])), t.g.scalar(1 / Math.sqrt(dh))), mask);
  const merged = reshape(t, transpose(t, matmul(t, softmax(t, scores), v), [0, 2, 1, 3]), [b, len, d]);
  return matmul(t, merged, w.o);
}
