/**
 * The `llama` model family: Hugging Face `LlamaForCausalLM` (transformers `modeling_llama.py`) as
 * an ONNX graph, with HF's parameter names and torch's [out, in] layouts, so an HF checkpoint maps
 * onto the manifest tensor for tensor. Pre-norm blocks of RMSNorm, grouped-query causal attention
 * with rotate-half RoPE and a SwiGLU MLP; a final RMSNorm; a head tied to the embedding or not; no
 * learned positions. The loss is Templar's `evaluate_model` (neurons/trainer.py): T inputs, labels
 * shifted left, the last position and every pad (= EOS) target ignored, fp32 cross-entropy, one
 * mean per sample over its valid positions. The training graph adds the gradient of the mean of
 * those means with respect to every parameter.
 */
import { type LlamaConfig, llamaManifest } from "../../schema/model/llama.ts";
import type { ParameterSpec } from "../../schema/model/manifest.ts";
import { Tape } from "./autodiff.ts";
import { causalMask, rmsNorm, silu } from "./layers.ts";
import { type FloatType, GraphBuilder, type Value } from "./onnx-graph.ts";
import {
  add,
  embedding,
  linear,
  matmul,
  meanLastAxis,
  mul,
  reshape,
  sampleMeanCrossEntropy,
  softmax,
  transpose,
} from "./ops.ts";
import { applyRope, type Rope, ropeConstants } from "./rope.ts";

/** torch's `ignore_index` default: a label the loss skips. */
export const IGNORE_INDEX = -100;

/** Graph input and output names of the llama family's loss and training graphs. */
export const INPUT_IDS = "input_ids";
export const LABELS = "labels";
export const LOGITS = "logits";
/** The mean over samples of each sample's mean loss (Templar logs the sum of these ÷ batches). */
export const LLAMA_LOSS = "loss";
/** Each sample's mean loss over its valid positions (NaN when it has none: Templar skips those). */
export const LLAMA_SAMPLE_LOSSES = "sample_losses";
/** Each sample's count of valid (scored) positions. */
export const VALID_TOKENS = "valid_tokens";

/**
 * Templar's labels for `batch` samples of `seqLen` ids (row-major): ids shifted left by one, the
 * last position and every EOS target set to {@link IGNORE_INDEX}. EOS stays an input.
 */
export function templarLabels(
  ids: ArrayLike<number | bigint>,
  batch: number,
  seqLen: number,
  eos: number,
): BigInt64Array {
  if (ids.length !== batch * seqLen) throw new Error(`expected ${batch}×${seqLen} ids, got ${ids.length}`);
  const labels = new BigInt64Array(batch * seqLen).fill(BigInt(IGNORE_INDEX));
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t + 1 < seqLen; t++) {
      const next = Number(ids[b * seqLen + t + 1]);
      if (next !== eos) labels[b * seqLen + t] = BigInt(next);
    }
  }
  return labels;
}

/** Causal grouped-query attention of x[B, T, d]: query head h reads KV head ⌊h / (H/KV)⌋ (HF's repeat_kv). */
function attention(
  t: Tape,
  x: Value,
  w: { q: Value; k: Value; v: Value; o: Value },
  c: LlamaConfig,
  rope: Rope,
  mask: Value,
): Value {
  const [b, len] = x.shape as [number, number, number];
  const hd = c.head_dim;
  const kvHeads = c.num_key_value_heads;
  const rep = c.num_attention_heads / kvHeads;
  const heads = (v: Value, n: number) => transpose(t, reshape(t, v, [b, len, n, hd]), [0, 2, 1, 3]); // [B, n, T, hd]
  const q = applyRope(t, heads(linear(t, x, w.q), c.num_attention_heads), rope);
  const k = applyRope(t, heads(linear(t, x, w.k), kvHeads), rope);
  const v = heads(linear(t, x, w.v), kvHeads);
  // Group the query heads by the KV head they share; k and v broadcast over the group axis.
  const qg = reshape(t, q, [b, kvHeads, rep, len, hd]);
  const kg = reshape(t, k, [b, kvHeads, 1, len, hd]);
  const vg = reshape(t, v, [b, kvHeads, 1, len, hd]);
  const scores = add(t, mul(t, matmul(t, qg, transpose(t, kg, [0, 1, 2, 4, 3])), t.g.scalar(1 / Math.sqrt(hd))), mask);
  const context = reshape(t, matmul(t, softmax(t, scores), vg), [b, c.num_attention_heads, len, hd]);
  const merged = reshape(t, transpose(t, context, [0, 2, 1, 3]), [b, len, c.num_attention_heads * hd]);
  return linear(t, merged, w.o);
}

/** SwiGLU: down(silu(gate(x)) ⊙ up(x)). */
function swiglu(t: Tape, x: Value, w: { gate: Value; up: Value; down: Value }): Value {
  return linear(t, mul(t, silu(t, linear(t, x, w.gate)), linear(t, x, w.up)), w.down);
}

/**
 * Where the graph takes one parameter from: a value of `g` with the spec's shape in float32. The
 * default is a graph input named after the parameter; θ-resident evaluation
 * (resident-session.ts) passes an initializer plus a fed sparse delta instead.
 */
export type ParameterSource = (spec: ParameterSpec, g: GraphBuilder) => Value;

/**
 * The forward (evaluation) graph for `batch` samples of `seqLen` tokens: inputs `input_ids` and
 * `labels` [B, T] int64 (labels from {@link templarLabels}) and the parameters in manifest order
 * (or whatever `parameter` makes of them); outputs `loss`, `sample_losses` and `valid_tokens`,
 * and `logits` [B, T, V] when asked for.
 */
export function buildLlamaLossGraph(
  c: LlamaConfig,
  batch: number,
  seqLen: number,
  opts: { logits?: boolean; parameter?: ParameterSource } = {},
): Uint8Array {
  return buildLlamaGraph(c, batch, seqLen, {
    gradients: false,
    dtype: "float32",
    logits: opts.logits ?? false,
    ...(opts.parameter ? { parameter: opts.parameter } : {}),
  });
}

/**
 * The loss-and-gradient graph (a miner's inner step): the loss graph's forward nodes and outputs
 * plus backward nodes, with one `grad.<param>` output per parameter in manifest order (a tied
 * embedding's gradient sums its two uses). float64 is for finite-difference checks.
 */
export function buildLlamaTrainingGraph(
  c: LlamaConfig,
  batch: number,
  seqLen: number,
  opts: { dtype?: FloatType } = {},
): Uint8Array {
  return buildLlamaGraph(c, batch, seqLen, { gradients: true, dtype: opts.dtype ?? "float32", logits: false });
}

function buildLlamaGraph(
  c: LlamaConfig,
  batch: number,
  seqLen: number,
  opts: { gradients: boolean; dtype: FloatType; logits: boolean; parameter?: ParameterSource },
): Uint8Array {
  const manifest = llamaManifest(c);
  const g = new GraphBuilder(opts.dtype);
  const tape = new Tape(g, opts.gradients);
  const ids = g.input(INPUT_IDS, [batch, seqLen], "int64");
  const labels = g.input(LABELS, [batch, seqLen], "int64");
  const source: ParameterSource = opts.parameter ?? ((spec) => g.input(spec.name, spec.shape));
  const p = new Map<string, Value>();
  for (const spec of manifest.parameters) p.set(spec.name, tape.track(source(spec, g)));
  const param = (name: string) => p.get(name) as Value;

  const mask = causalMask(tape, seqLen);
  const rope = ropeConstants(tape, seqLen, c.head_dim, c.rope_theta);
  const embed = param("model.embed_tokens.weight");
  let x = embedding(tape, embed, ids);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const at = (n: string) => param(`model.layers.${l}.${n}.weight`);
    const h = rmsNorm(tape, x, at("input_layernorm"), c.rms_norm_eps);
    const w = {
      q: at("self_attn.q_proj"),
      k: at("self_attn.k_proj"),
      v: at("self_attn.v_proj"),
      o: at("self_attn.o_proj"),
    };
    x = add(tape, x, attention(tape, h, w, c, rope, mask));
    const m = rmsNorm(tape, x, at("post_attention_layernorm"), c.rms_norm_eps);
    x = add(tape, x, swiglu(tape, m, { gate: at("mlp.gate_proj"), up: at("mlp.up_proj"), down: at("mlp.down_proj") }));
  }
  const head = c.tie_word_embeddings ? embed : param("lm_head.weight");
  const logits = linear(tape, rmsNorm(tape, x, param("model.norm.weight"), c.rms_norm_eps), head);
  if (opts.logits) g.output(LOGITS, logits);
  // Templar's loss: each sample's mean over its valid positions, then the mean over samples.
  const { perSample, counts } = sampleMeanCrossEntropy(tape, logits, labels, IGNORE_INDEX);
  const loss = reshape(tape, meanLastAxis(tape, perSample), []);
  g.output(LLAMA_SAMPLE_LOSSES, perSample);
  g.output(VALID_TOKENS, counts);
  g.output(LLAMA_LOSS, loss);
  if (opts.gradients) {
    tape.outputGradients(
      loss,
      manifest.parameters.map(({ name }) => ({ name, value: param(name) })),
    );
  }
  return g.encode(manifest.model);
}
