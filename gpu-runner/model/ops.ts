/**
 * Differentiable ops: each emits its forward ONNX node with the output shape worked out at build
 * time (the graph is fully static: B and T are fixed when it is built) and records its gradient
 * rule on the tape. Gradients use standard ONNX ops only: stock onnxruntime has none of the
 * com.microsoft training kernels (docs/MODEL.md §2).
 */
import { sumToShape, type Tape } from "./autodiff.ts";
import { type GraphBuilder, onnxDataType, type Value } from "./onnx-graph.ts";

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

function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** x with its last two axes swapped (a plain node: used by gradient rules). */
function swapLastTwo(g: GraphBuilder, x: Value): Value {
  const r = x.shape.length;
  const perm = [...Array(r - 2).keys(), r - 1, r - 2];
  return g.node(
    "Transpose",
    [x],
    perm.map((p) => x.shape[p] as number),
    { perm },
  );
}

/** x viewed as [N, last axis] (no node when it already is 2-D). */
function rows(g: GraphBuilder, x: Value): Value {
  if (x.shape.length === 2) return x;
  const last = x.shape[x.shape.length - 1] as number;
  const shape = [numel(x.shape) / last, last];
  return g.node("Reshape", [x, g.ints(shape)], shape);
}

/** reshape without recording (the shape must hold the same number of elements). */
function view(g: GraphBuilder, x: Value, shape: readonly number[]): Value {
  return x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])
    ? x
    : g.node("Reshape", [x, g.ints(shape)], shape);
}

/** One-hot rows [N, depth] in the graph's float type of int64 ids (any shape, N elements). */
function oneHot(g: GraphBuilder, ids: Value, depth: number): Value {
  const n = numel(ids.shape);
  const classes = g.constant(
    "classes",
    BigInt64Array.from({ length: depth }, (_, i) => BigInt(i)),
    [1, depth],
  );
  const hits = g.node("Equal", [view(g, ids, [n, 1]), classes], [n, depth], {}, "bool");
  return g.node("Cast", [hits], [n, depth], { to: onnxDataType(g.float) }, g.float);
}

/** a + b with broadcasting. */
export function add(t: Tape, a: Value, b: Value): Value {
  const { g } = t;
  const y = g.node("Add", [a, b], broadcast(a.shape, b.shape));
  return t.record(y, [a, b], (gy) => [() => sumToShape(g, gy, a.shape), () => sumToShape(g, gy, b.shape)]);
}

/** a · b elementwise with broadcasting. */
export function mul(t: Tape, a: Value, b: Value): Value {
  const { g } = t;
  const y = g.node("Mul", [a, b], broadcast(a.shape, b.shape));
  return t.record(y, [a, b], (gy) => [
    () => sumToShape(g, g.node("Mul", [gy, b], gy.shape), a.shape),
    () => sumToShape(g, g.node("Mul", [gy, a], gy.shape), b.shape),
  ]);
}

/** x[..., k] · w[k, m] (or batched [..., k, m]). */
export function matmul(t: Tape, x: Value, w: Value): Value {
  const { g } = t;
  const k = x.shape[x.shape.length - 1];
  if (w.shape[w.shape.length - 2] !== k) throw new Error(`matmul [${x.shape}] · [${w.shape}]`);
  const batch = broadcast(x.shape.slice(0, -2), w.shape.slice(0, -2));
  const y = g.node(
    "MatMul",
    [x, w],
    [...batch, x.shape[x.shape.length - 2] as number, w.shape[w.shape.length - 1] as number],
  );
  if (w.shape.length === 2) {
    // A weight matrix: fold every leading axis into rows and use 2-D Gemm with transposes.
    return t.record(y, [x, w], (gy) => {
      const gy2 = rows(g, gy);
      return [
        () => view(g, g.node("Gemm", [gy2, w], [gy2.shape[0] as number, k as number], { transB: 1 }), x.shape),
        () => g.node("Gemm", [rows(g, x), gy2], w.shape, { transA: 1 }),
      ];
    });
  }
  return t.record(y, [x, w], (gy) => [
    () => sumToShape(g, g.node("MatMul", [gy, swapLastTwo(g, w)], [...gy.shape.slice(0, -1), k as number]), x.shape),
    () => {
      const gw = [...gy.shape.slice(0, -2), k as number, gy.shape[gy.shape.length - 1] as number];
      return sumToShape(g, g.node("MatMul", [swapLastTwo(g, x), gy], gw), w.shape);
    },
  ]);
}

/**
 * x[..., in] · Wᵀ for a weight W[out, in] in torch's nn.Linear layout: one Gemm with transB, so
 * the weight keeps the layout checkpoints and gradient chunks use and no Transpose node is built.
 */
export function linear(t: Tape, x: Value, w: Value): Value {
  const { g } = t;
  const [out, inFeatures] = w.shape as [number, number];
  if (x.shape[x.shape.length - 1] !== inFeatures) throw new Error(`linear [${x.shape}] · [${w.shape}]ᵀ`);
  const x2 = rows(g, x);
  const y2 = g.node("Gemm", [x2, w], [x2.shape[0] as number, out], { transB: 1 });
  const y = view(g, y2, [...x.shape.slice(0, -1), out]);
  // dx = dy · W and dW = dyᵀ · x, both 2-D Gemms on the folded rows.
  return t.record(y, [x, w], (gy) => {
    const gy2 = rows(g, gy);
    return [
      () => view(g, g.node("Gemm", [gy2, w], x2.shape), x.shape),
      () => g.node("Gemm", [gy2, x2], w.shape, { transA: 1 }),
    ];
  });
}

/** x with a new shape of the same number of elements. */
export function reshape(t: Tape, x: Value, shape: readonly number[]): Value {
  const { g } = t;
  const y = g.node("Reshape", [x, g.ints(shape)], shape, {}, x.dtype);
  return t.record(y, [x], (gy) => [() => g.node("Reshape", [gy, g.ints(x.shape)], x.shape)]);
}

/** x with its axes permuted. */
export function transpose(t: Tape, x: Value, perm: readonly number[]): Value {
  const { g } = t;
  const y = g.node(
    "Transpose",
    [x],
    perm.map((p) => x.shape[p] as number),
    { perm },
  );
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return t.record(y, [x], (gy) => [() => g.node("Transpose", [gy], x.shape, { perm: inverse })]);
}

/**
 * Rows of an embedding table: table[V, d] gathered by int64 ids[...] → [..., d]. Its gradient adds
 * each dy row into row id of zeros[V, d] (ScatterND, reduction "add": repeated ids accumulate),
 * since onnxruntime's GatherGrad is a training-only kernel (docs/MODEL.md §2) and a one-hot
 * [N, V] would be 2 GiB per 2,048 tokens at LLaMA-size vocabularies.
 */
export function embedding(t: Tape, table: Value, ids: Value): Value {
  const { g } = t;
  const d = table.shape[1] as number;
  const y = g.node("Gather", [table, ids], [...ids.shape, d], { axis: 0 });
  return t.record(y, [table, ids], (gy) => [
    () => {
      // Expand of a scalar, not a [V, d] initializer: the zeros then cost nothing in the file.
      const zeros = g.node("Expand", [g.scalar(0), g.ints(table.shape)], table.shape);
      return g.node("ScatterND", [zeros, view(g, ids, [numel(ids.shape), 1]), rows(g, gy)], table.shape, {
        reduction: "add",
      });
    },
    undefined,
  ]);
}

/** Mean over the last axis, kept as an axis of size 1. */
export function meanLastAxis(t: Tape, x: Value): Value {
  const { g } = t;
  const n = x.shape[x.shape.length - 1] as number;
  const y = g.node("ReduceMean", [x], [...x.shape.slice(0, -1), 1], { axes: [-1], keepdims: 1 });
  return t.record(y, [x], (gy) => [
    () => g.node("Expand", [g.node("Mul", [gy, g.scalar(1 / n)], gy.shape), g.ints(x.shape)], x.shape),
  ]);
}

/** √x elementwise. */
export function sqrt(t: Tape, x: Value): Value {
  const { g } = t;
  const y = g.node("Sqrt", [x], x.shape);
  return t.record(y, [x], (gy) => [() => g.node("Div", [g.node("Mul", [gy, g.scalar(0.5)], gy.shape), y], x.shape)]);
}

/** 1/x elementwise. */
export function reciprocal(t: Tape, x: Value): Value {
  const { g } = t;
  const y = g.node("Reciprocal", [x], x.shape);
  // d(1/x) = −y² dx
  return t.record(y, [x], (gy) => [
    () => g.node("Neg", [g.node("Mul", [gy, g.node("Mul", [y, y], y.shape)], x.shape)], x.shape),
  ]);
}

/** The logistic sigmoid elementwise. */
export function sigmoid(t: Tape, x: Value): Value {
  const { g } = t;
  const y = g.node("Sigmoid", [x], x.shape);
  // dσ = σ(1 − σ) dx
  return t.record(y, [x], (gy) => [
    () => g.node("Mul", [gy, g.node("Mul", [y, g.node("Sub", [g.scalar(1), y], y.shape)], y.shape)], x.shape),
  ]);
}

/** Softmax over the last axis. */
export function softmax(t: Tape, x: Value): Value {
  const { g } = t;
  const y = g.node("Softmax", [x], x.shape, { axis: -1 });
  // dx = y · (dy − Σ_last(dy · y))
  return t.record(y, [x], (gy) => [
    () => {
      const kept = [...x.shape.slice(0, -1), 1];
      const dot = g.node("ReduceSum", [g.node("Mul", [gy, y], x.shape), g.ints([-1])], kept, { keepdims: 1 });
      return g.node("Mul", [y, g.node("Sub", [gy, dot], x.shape)], x.shape);
    },
  ]);
}

/** softmax − onehot(targets) of rows [N, V], from their log-probabilities; an ignored target (−100) has no one. */
function softmaxMinusOneHot(g: GraphBuilder, logProb: Value, targets: Value, vocab: number): Value {
  return g.node("Sub", [g.node("Exp", [logProb], logProb.shape), oneHot(g, targets, vocab)], logProb.shape);
}

/**
 * Mean token cross-entropy of logits[N, V] against int64 targets[N]. With gradients wanted, the
 * node also outputs log-probabilities, and d loss / d logits = (exp(log_prob) − onehot) / N.
 */
export function crossEntropy(t: Tape, logits: Value, targets: Value): Value {
  const { g } = t;
  if (!t.enabled) return g.node("SoftmaxCrossEntropyLoss", [logits, targets], [], { reduction: "mean" });
  const [n, vocab] = logits.shape as [number, number];
  const [loss, logProb] = g.nodeOutputs(
    "SoftmaxCrossEntropyLoss",
    [logits, targets],
    [
      { shape: [], dtype: logits.dtype },
      { shape: logits.shape, dtype: logits.dtype },
    ],
    { reduction: "mean" },
  ) as [Value, Value];
  return t.record(loss, [logits, targets], (gy) => [
    () => {
      const residual = softmaxMinusOneHot(g, logProb, targets, vocab);
      return g.node("Mul", [residual, g.node("Mul", [gy, g.scalar(1 / n)], [])], logits.shape);
    },
    undefined,
  ]);
}

/**
 * Each sample's mean token cross-entropy over its scored positions: logits[B, T, V] against int64
 * labels[B, T], where `ignoreIndex` marks a position that is not scored. Returns `perSample` [B]
 * (NaN for a sample with no scored position) and `counts` [B], the scored positions per sample.
 * Per-token cross-entropy is computed once (SoftmaxCrossEntropyLoss, reduction none: 0 at ignored
 * labels). Only `perSample` is differentiable: d logits[b, t] = (softmax − onehot(label)) ·
 * valid[b, t] · dy[b] / count[b], where valid zeroes the softmax term of ignored positions.
 */
export function sampleMeanCrossEntropy(
  t: Tape,
  logits: Value,
  labels: Value,
  ignoreIndex: number,
): { perSample: Value; counts: Value } {
  const { g } = t;
  const [b, len, vocab] = logits.shape as [number, number, number];
  const flatLabels = view(g, labels, [b * len]);
  const outputs = [{ shape: [b * len], dtype: logits.dtype }];
  // The log-probabilities are an output only when the backward reads them.
  if (t.enabled) outputs.push({ shape: [b * len, vocab], dtype: logits.dtype });
  const [perToken, logProb] = g.nodeOutputs(
    "SoftmaxCrossEntropyLoss",
    [view(g, logits, [b * len, vocab]), flatLabels],
    outputs,
    { reduction: "none", ignore_index: ignoreIndex },
  ) as [Value, Value | undefined];
  const sums = g.node("ReduceSum", [view(g, perToken, [b, len]), g.ints([1])], [b], { keepdims: 0 });
  const scored = g.node("Not", [g.node("Equal", [labels, g.ints([ignoreIndex])], [b, len], {}, "bool")], [b, len]);
  const valid = g.node("Cast", [scored], [b, len], { to: onnxDataType(g.float) }, g.float);
  const counts = g.node("ReduceSum", [valid, g.ints([1])], [b], { keepdims: 0 });
  const perSample = t.record(g.node("Div", [sums, counts], [b]), [logits, labels], (gy) => [
    () => {
      const perCount = view(g, g.node("Div", [gy, counts], [b]), [b, 1]);
      const weight = view(g, g.node("Mul", [valid, perCount], [b, len]), [b * len, 1]);
      const residual = softmaxMinusOneHot(g, logProb as Value, flatLabels, vocab);
      return view(g, g.node("Mul", [residual, weight], residual.shape), logits.shape);
    },
    undefined,
  ]);
  return { perSample, counts };
}
