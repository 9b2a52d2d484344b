/**
 * The model: a small byte-level decoder-only transformer (token and position embeddings,
 * pre-norm blocks of causal self-attention and a SiLU MLP with RMSNorm, a final RMSNorm and an
 * untied head), sized by the hparams profile. Its parameters, in manifest order, are the graph's
 * inputs; the graph's output is the mean next-byte cross-entropy of a batch, and in the training
 * graph also its gradient with respect to every parameter.
 */
import type { ByteModelHparams } from "../../schema/hparams.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { Tape } from "./autodiff.ts";
import { causalMask, rmsNorm, selfAttention, silu } from "./layers.ts";
import { type FloatType, GraphBuilder, type Value } from "./onnx-graph.ts";
import { add, crossEntropy, embedding, matmul, reshape } from "./ops.ts";

/** The parameters of the model, in the order every flat parameter vector uses. */
export function transformerManifest(m: ByteModelHparams): ModelManifest {
  const d = m.d_model;
  const hidden = m.mlp_ratio * d;
  const parameters = [
    { name: "tok_emb", shape: [m.vocab_size, d] },
    { name: "pos_emb", shape: [m.seq_len, d] },
  ];
  for (let l = 0; l < m.n_layers; l++) {
    parameters.push(
      { name: `layers.${l}.norm1`, shape: [d] },
      { name: `layers.${l}.attn.wq`, shape: [d, d] },
      { name: `layers.${l}.attn.wk`, shape: [d, d] },
      { name: `layers.${l}.attn.wv`, shape: [d, d] },
      { name: `layers.${l}.attn.wo`, shape: [d, d] },
      { name: `layers.${l}.norm2`, shape: [d] },
      { name: `layers.${l}.mlp.w1`, shape: [d, hidden] },
      { name: `layers.${l}.mlp.w2`, shape: [hidden, d] },
    );
  }
  parameters.push({ name: "norm", shape: [d] }, { name: "head", shape: [d, m.vocab_size] });
  return { model: `templar-edge-d${d}-l${m.n_layers}-h${m.n_heads}-t${m.seq_len}`, parameters };
}

/** Graph input names of the data, and the loss output. */
export const TOKENS = "tokens";
export const TARGETS = "targets";
export const LOSS = "loss";
/** The evaluator's graph also gives each sequence's mean loss: the indicator's test needs them. */
export const SAMPLE_LOSSES = "sample_losses";

/** The ONNX loss graph of the model for batches of `batch` sequences of seq_len bytes (forward only: the evaluator's). */
export function buildLossGraph(m: ByteModelHparams, batch: number): Uint8Array {
  return buildGraph(m, batch, { gradients: false, dtype: "float32" });
}

/**
 * The loss-and-gradient graph: the same forward nodes as the loss graph plus backward nodes, with
 * outputs `loss` and one `grad.<param>` per parameter in manifest order. float64 is for
 * finite-difference checks.
 */
export function buildTrainingGraph(m: ByteModelHparams, batch: number, opts: { dtype?: FloatType } = {}): Uint8Array {
  return buildGraph(m, batch, { gradients: true, dtype: opts.dtype ?? "float32" });
}

function buildGraph(m: ByteModelHparams, batch: number, opts: { gradients: boolean; dtype: FloatType }): Uint8Array {
  if (m.d_model % m.n_heads !== 0) throw new Error(`d_model ${m.d_model} is not divisible by ${m.n_heads} heads`);
  const g = new GraphBuilder(opts.dtype);
  const tape = new Tape(g, opts.gradients);
  const t = m.seq_len;
  const manifest = transformerManifest(m);
  const tokens = g.input(TOKENS, [batch, t], "int64");
  const targets = g.input(TARGETS, [batch, t], "int64");
  const p = new Map<string, Value>();
  for (const spec of manifest.parameters) p.set(spec.name, tape.track(g.input(spec.name, spec.shape)));
  const param = (name: string) => p.get(name) as Value;

  const mask = causalMask(tape, t);
  let x = add(tape, embedding(tape, param("tok_emb"), tokens), param("pos_emb"));
  for (let l = 0; l < m.n_layers; l++) {
    const at = (n: string) => param(`layers.${l}.${n}`);
    const attn = selfAttention(
      tape,
      rmsNorm(tape, x, at("norm1")),
      { q: at("attn.wq"), k: at("attn.wk"), v: at("attn.wv"), o: at("attn.wo") },
      m.n_heads,
      mask,
    );
    x = add(tape, x, attn);
    const mlp = matmul(tape, silu(tape, matmul(tape, rmsNorm(tape, x, at("norm2")), at("mlp.w1"))), at("mlp.w2"));
    x = add(tape, x, mlp);
  }
  const logits = matmul(tape, rmsNorm(tape, x, param("norm")), param("head"));
  const loss = crossEntropy(
    tape,
    reshape(tape, logits, [batch * t, m.vocab_size]),
    reshape(tape, targets, [batch * t]),
  );
  g.output(LOSS, loss);
  if (!opts.gradients) {
    const perToken = g.node(
      "SoftmaxCrossEntropyLoss",
      [reshape(tape, logits, [batch * t, m.vocab_size]), reshape(tape, targets, [batch * t])],
      [batch * t],
      { reduction: "none" },
    );
    const perSequence = g.node("ReduceMean", [reshape(tape, perToken, [batch, t])], [batch], {
      axes: [1],
      keepdims: 0,
    });
    g.output(SAMPLE_LOSSES, perSequence);
  }
  if (opts.gradients) {
    tape.outputGradients(
      loss,
      manifest.parameters.map(({ name }) => ({ name, value: param(name) })),
    );
  }
  return g.encode(manifest.model);
}
