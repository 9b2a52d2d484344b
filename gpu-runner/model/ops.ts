/**
 * The forward ops of the transformer, each a few ONNX nodes with the output shape worked out at
 * build time (the graph is fully static: B and T are fixed when it is built).
 */
import type { GraphBuilder, Value } from "./onnx-graph.ts";

/** Broadcast shape of two shapes (numpy rules). */
function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`cannot broadcast [${a}] with [${b}]`);
    out.push(Math.max(x, y));
  }
  return out;
}

export function add(g: GraphBuilder, a: Value, b: Value): Value {
  return g.node("Add", [a, b], broadcast(a.shape, b.shape));
}

export function mul(g: GraphBuilder, a: Value, b: Value): Value {
  return g.node("Mul", [a, b], broadcast(a.shape, b.shape));
}

/** x[..., k] · w[k, m] (or batched [..., k, m]). */
export function matmul(g: GraphBuilder, x: Value, w: Value): Value {
  const k = x.shape[x.shape.length - 1];
  if (w.shape[w.shape.length - 2] !== k) throw new Error(`matmul [${x.shape}] · [${w.shape}]`);
  const batch = broadcast(x.shape.slice(0, -2), w.shape.slice(0, -2));
  return g.node(
    "MatMul",
    [x, w],
    [...batch, x.shape[x.shape.length - 2] as number, w.shape[w.shape.length - 1] as number],
  );
}

export function reshape(g: GraphBuilder, x: Value, shape: readonly number[]): Value {
  return g.node("Reshape", [x, g.ints(shape)], shape, {}, x.dtype);
}

export function transpose(g: GraphBuilder, x: Value, perm: readonly number[]): Value {
  return g.node(
    "Transpose",
    [x],
    perm.map((p) => x.shape[p] as number),
    { perm },
  );
}

/** Rows of an embedding table: table[V, d] gathered by int64 ids[...] → [..., d]. */
export function embedding(g: GraphBuilder, table: Value, ids: Value): Value {
  return g.node("Gather", [table, ids], [...ids.shape, table.shape[1] as number], { axis: 0 });
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · gain. */
export function rmsNorm(g: GraphBuilder, x: Value, gain: Value, eps = 1e-5): Value {
  const meanSquare = g.node("ReduceMean", [mul(g, x, x)], [...x.shape.slice(0, -1), 1], { axes: [-1], keepdims: 1 });
  const inv = g.node(
    "Reciprocal",
    [g.node("Sqrt", [add(g, meanSquare, g.scalar(eps))], meanSquare.shape)],
    meanSquare.shape,
  );
  return mul(g, mul(g, x, inv), gain);
}

/** SiLU: x · sigmoid(x). */
export function silu(g: GraphBuilder, x: Value): Value {
  return mul(g, x, g.node("Sigmoid", [x], x.shape));
}

/** An additive causal mask [T, T]: 0 on and below the diagonal, −1e9 above (exact zeros after softmax). */
export function causalMask(g: GraphBuilder, t: number): Value {
  const mask = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) mask[i * t + j] = -1e9;
  return g.constant("causal_mask", mask, [t, t]);
}

/** Causal multi-head self-attention of x[B, T, d] with heads of d/H. */
export function selfAttention(
  g: GraphBuilder,
  x: Value,
  w: { q: Value; k: Value; v: Value; o: Value },
  heads: number,
  mask: Value,
): Value {
  const [b, t, d] = x.shape as [number, number, number];
  const dh = d / heads;
  const split = (v: Value) => transpose(g, reshape(g, v, [b, t, heads, dh]), [0, 2, 1, 3]); // [B, H, T, dh]
  const q = split(matmul(g, x, w.q));
  const k = split(matmul(g, x, w.k));
  const v = split(matmul(g, x, w.v));
  const scores = add(g, mul(g, matmul(g, q, transpose(g, k, [0, 1, 3, 2])), g.scalar(1 / Math.sqrt(dh))), mask);
  const attn = g.node("Softmax", [scores], scores.shape, { axis: -1 });
  const merged = reshape(g, transpose(g, matmul(g, attn, v), [0, 2, 1, 3]), [b, t, d]);
  return matmul(g, merged, w.o);
}

/** Mean token cross-entropy of logits[N, V] against int64 targets[N]. */
export function crossEntropy(g: GraphBuilder, logits: Value, targets: Value): Value {
  return g.node("SoftmaxCrossEntropyLoss", [logits, targets], [], { reduction: "mean" });
}
