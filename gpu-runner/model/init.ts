/**
 * Deterministic initial parameters: the same hparams give the same bytes on any machine.
 * Weights are approximately normal with std 0.02 (Irwin–Hall: the sum of 12 uniforms, minus 6,
 * which needs no transcendental functions, whose last bits could differ between engines);
 * the residual output projections (wo and w2; llama: o_proj and down_proj) are scaled by 1/√(2·layers) as in GPT-2; norm gains are 1.
 */
import { type ModelManifest, parameterSlots } from "../../schema/model/manifest.ts";

const STD = 0.02;

/** sfc32, seeded: a small, fast, well-tested 32-bit generator. */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (a + b + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** The initial flat parameter vector of a model, from a seed. */
export function initialParameters(manifest: ModelManifest, layers: number, seed = 0x7e_d9_e5): Float32Array {
  const { slots, total } = parameterSlots(manifest);
  const out = new Float32Array(total);
  const next = sfc32(seed, 0x9e3779b9, 0x243f6a88, 0xb7e15162);
  for (let i = 0; i < 16; i++) next(); // warm the state
  for (const { spec, offset, numel } of slots) {
    if (spec.shape.length === 1) {
      out.fill(1, offset, offset + numel);
      continue;
    }
    const std = /\.(attn\.wo|mlp\.w2|o_proj\.weight|down_proj\.weight)$/.test(spec.name)
      ? STD / Math.sqrt(2 * layers)
      : STD;
    for (let i = 0; i < numel; i++) {
      let s = -6;
      for (let j = 0; j < 12; j++) s += next();
      out[offset + i] = std * s;
    }
  }
  return out;
}
