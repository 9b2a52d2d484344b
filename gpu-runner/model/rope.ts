/**
 * Rotary position embeddings in Hugging Face's rotate-half layout (transformers
 * `modeling_llama.py`: `rotate_half`, `apply_rotary_pos_emb`): for i < hd/2 and a = t·θ_i,
 * y[i] = x[i]·cos a − x[i+hd/2]·sin a and y[i+hd/2] = x[i+hd/2]·cos a + x[i]·sin a, with
 * θ_i = rope_theta^(−2i/hd). It is built from existing ops as y = x ⊙ C + (x · R) ⊙ S, where R is
 * the constant rotate-half matrix, so the training graph needs no new gradient rule.
 */
import type { Tape } from "./autodiff.ts";
import type { Value } from "./onnx-graph.ts";
import { add, matmul, mul } from "./ops.ts";

/**
 * cos and sin tables [T, hd] built as HF's LlamaRotaryEmbedding builds them, in float32 at every
 * step (inv_freq, t · inv_freq, cos, sin): at long T those angles differ from exact ones by about
 * 1e-4 rad, so matching the reference means rounding like it.
 */
export function ropeTables(seqLen: number, headDim: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const f = Math.fround;
  const invFreq = Array.from({ length: half }, (_, i) => f(1 / f(theta ** f((2 * i) / headDim))));
  const cos = new Float32Array(seqLen * headDim);
  const sin = new Float32Array(seqLen * headDim);
  for (let t = 0; t < seqLen; t++) {
    for (let i = 0; i < half; i++) {
      const a = f(t * (invFreq[i] as number));
      for (const j of [i, i + half]) {
        cos[t * headDim + j] = Math.cos(a);
        sin[t * headDim + j] = Math.sin(a);
      }
    }
  }
  return { cos, sin };
}

/** The matrix R[hd, hd] with x · R = rotate_half(x) = [−x[hd/2:], x[:hd/2]]. */
function rotateHalfMatrix(headDim: number): Float32Array {
  const half = headDim / 2;
  const r = new Float32Array(headDim * headDim);
  for (let i = 0; i < half; i++) {
    r[(i + half) * headDim + i] = -1;
    r[i * headDim + i + half] = 1;
  }
  return r;
}

/** Constants shared by every rotation of one graph (one copy of each table, however many layers). */
export interface Rope {
  readonly cos: Value;
  readonly sin: Value;
  readonly rotate: Value;
}

/** The RoPE constants of a graph with sequences of `seqLen` and heads of `headDim`. */
export function ropeConstants(t: Tape, seqLen: number, headDim: number, theta: number): Rope {
  if (headDim % 2 !== 0) throw new Error(`RoPE needs an even head dim, got ${headDim}`);
  const { cos, sin } = ropeTables(seqLen, headDim, theta);
  return {
    cos: t.g.floats("rope_cos", cos, [seqLen, headDim]),
    sin: t.g.floats("rope_sin", sin, [seqLen, headDim]),
    rotate: t.g.floats("rope_rotate_half", rotateHalfMatrix(headDim), [headDim, headDim]),
  };
}

/** RoPE of x[..., T, hd] (positions 0…T−1 on the second-to-last axis). */
export function applyRope(t: Tape, x: Value, rope: Rope): Value {
  return add(t, mul(t, x, rope.cos), mul(t, matmul(t, x, rope.rotate), rope.sin));
}
