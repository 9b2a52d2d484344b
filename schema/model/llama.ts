/**
 * The `llama` model family's shape and parameter list: Hugging Face `LlamaForCausalLM`'s names and
 * torch's [out, in] layouts, so an HF checkpoint maps onto the manifest tensor for tensor and the
 * codec's 64×64 chunks see the same matrices a Templar miner chunks. The graphs live in
 * gpu-runner/model/llama.ts; the shapes are protocol (the codec checks files against them), so
 * they live here. The named configs are Templar's (docs/MODEL.md §10).
 */
import type { ModelManifest } from "./manifest.ts";

/** A LLaMA shape, named as the fields of an HF `config.json` (LlamaConfig). */
export interface LlamaConfig {
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly num_key_value_heads: number;
  readonly head_dim: number;
  readonly intermediate_size: number;
  readonly rope_theta: number;
  readonly rms_norm_eps: number;
  readonly tie_word_embeddings: boolean;
  /** Templar sets pad = EOS, so EOS targets are the ones the loss ignores. */
  readonly eos_token_id: number;
}

/** Throws unless the heads group evenly into KV heads and RoPE has pairs to rotate. */
export function checkLlamaConfig(c: LlamaConfig): void {
  if (c.num_attention_heads % c.num_key_value_heads !== 0)
    throw new Error(`${c.num_attention_heads} heads are not a multiple of ${c.num_key_value_heads} KV heads`);
  if (c.head_dim % 2 !== 0) throw new Error(`head_dim ${c.head_dim} is odd (RoPE rotates pairs)`);
}

/** The parameters in HF `LlamaForCausalLM` state-dict order; `lm_head.weight` only when untied. */
export function llamaManifest(c: LlamaConfig): ModelManifest {
  checkLlamaConfig(c);
  const d = c.hidden_size;
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  const f = c.intermediate_size;
  const parameters = [{ name: "model.embed_tokens.weight", shape: [c.vocab_size, d] }];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const at = `model.layers.${l}`;
    parameters.push(
      { name: `${at}.self_attn.q_proj.weight`, shape: [q, d] },
      { name: `${at}.self_attn.k_proj.weight`, shape: [kv, d] },
      { name: `${at}.self_attn.v_proj.weight`, shape: [kv, d] },
      { name: `${at}.self_attn.o_proj.weight`, shape: [d, q] },
      { name: `${at}.mlp.gate_proj.weight`, shape: [f, d] },
      { name: `${at}.mlp.up_proj.weight`, shape: [f, d] },
      { name: `${at}.mlp.down_proj.weight`, shape: [d, f] },
      { name: `${at}.input_layernorm.weight`, shape: [d] },
      { name: `${at}.post_attention_layernorm.weight`, shape: [d] },
    );
  }
  parameters.push({ name: "model.norm.weight", shape: [d] });
  if (!c.tie_word_embeddings) parameters.push({ name: "lm_head.weight", shape: [c.vocab_size, d] });
  const tied = c.tie_word_embeddings ? "-tied" : "";
  return {
    model: `llama-d${d}-l${c.num_hidden_layers}-h${c.num_attention_heads}-kv${c.num_key_value_heads}-v${c.vocab_size}${tied}`,
    parameters,
  };
}

/** LLaMA-2's 32K SentencePiece vocabulary: `</s>` is id 2 (pad = EOS in Templar). */
const LLAMA2_VOCAB = { vocab_size: 32_000, eos_token_id: 2 } as const;

/**
 * A few million parameters with the real LLaMA-2 tokenizer: tests and the local network.
 * GQA (4 heads on 2 KV heads) and a tied head, so both paths the big shapes use are exercised.
 */
export const LLAMA_TINY: LlamaConfig = {
  ...LLAMA2_VOCAB,
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  intermediate_size: 176,
  rope_theta: 10_000,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: true,
};

/** Templar's `hparams/150M.json` as an HF LlamaConfig: 215.0M parameters, untied. */
export const TEMPLAR_150M: LlamaConfig = {
  ...LLAMA2_VOCAB,
  hidden_size: 1024,
  num_hidden_layers: 12,
  num_attention_heads: 16,
  num_key_value_heads: 16,
  head_dim: 64,
  intermediate_size: 2688,
  rope_theta: 10_000,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
};

/** Templar's `hparams/1B.json` as an HF LlamaConfig: 1.205B parameters, untied. */
export const TEMPLAR_1B: LlamaConfig = {
  ...LLAMA2_VOCAB,
  hidden_size: 2048,
  num_hidden_layers: 16,
  num_attention_heads: 8,
  num_key_value_heads: 8,
  head_dim: 256,
  intermediate_size: 8192,
  rope_theta: 10_000,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
};

/** TorchTitan's llama3 8B preset with LLaMA-2's 32K vocabulary, untied, as Templar's 8B runs used it: 7.242B parameters. */
export const TEMPLAR_8B: LlamaConfig = {
  ...LLAMA2_VOCAB,
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 128,
  intermediate_size: 14_336,
  rope_theta: 500_000,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: false,
};

/**
 * The Covenant-72B shape (TorchTitan's 70B preset, Gemma-3's 262,144-token vocabulary, EOS id 1)
 * as Templar exports it to HF: `lm_head` separate, 72,747,327,488 parameters.
 */
export const TEMPLAR_72B: LlamaConfig = {
  vocab_size: 262_144,
  eos_token_id: 1,
  hidden_size: 8192,
  num_hidden_layers: 80,
  num_attention_heads: 64,
  num_key_value_heads: 8,
  head_dim: 128,
  intermediate_size: 28_672,
  rope_theta: 500_000,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: false,
};
