/**
 * The miner's inner optimizer: AdamW over one flat Float32Array, as torch.optim.AdamW does it
 * (decoupled weight decay, bias-corrected moments, eps added after the square root), preceded by
 * torch.nn.utils.clip_grad_norm_ over the whole gradient (Templar's inner step: clip 1.0, then
 * AdamW with lr 1.3e-4, betas (0.9, 0.95), weight decay 0.1).
 */

export interface AdamWSettings {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly weightDecay: number;
  /** Gradients whose global L2 norm exceeds this are scaled down to it; 0 or Infinity: no clipping. */
  readonly gradClip: number;
  /** torch's default. */
  readonly eps?: number;
}

/** What one step did: the gradient's norm before clipping and the factor it was scaled by. */
export interface AdamWStep {
  readonly gradNorm: number;
  readonly clipFactor: number;
}

export class AdamW {
  readonly settings: AdamWSettings;
  readonly #m: Float32Array;
  readonly #v: Float32Array;
  #t = 0;

  constructor(size: number, settings: AdamWSettings) {
    this.settings = settings;
    this.#m = new Float32Array(size);
    this.#v = new Float32Array(size);
  }

  /** Steps taken since creation or the last reset. */
  get steps(): number {
    return this.#t;
  }

  /** Forgets the moments and the step count. */
  reset(): void {
    this.#m.fill(0);
    this.#v.fill(0);
    this.#t = 0;
  }

  /** One optimizer step: clips `grad` (not modified) by its global norm and updates `params` in place. */
  step(params: Float32Array, grad: Float32Array): AdamWStep {
    const n = params.length;
    if (grad.length !== n || this.#m.length !== n)
      throw new RangeError(`AdamW over ${this.#m.length} values got ${params.length} parameters, ${grad.length} grads`);
    const { learningRate: lr, beta1, beta2, weightDecay, gradClip } = this.settings;
    const eps = this.settings.eps ?? 1e-8;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += grad[i] * grad[i];
    const gradNorm = Math.sqrt(sq);
    // torch: clip_coef = max_norm / (total_norm + 1e-6), applied only when below 1.
    const clipFactor = gradClip > 0 && Number.isFinite(gradClip) ? Math.min(1, gradClip / (gradNorm + 1e-6)) : 1;
    this.#t++;
    const bc1 = 1 - beta1 ** this.#t;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.#t);
    const stepSize = lr / bc1;
    const decay = 1 - lr * weightDecay;
    const m = this.#m;
    const v = this.#v;
    for (let i = 0; i < n; i++) {
      const g = grad[i] * clipFactor;
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      params[i] = params[i] * decay - (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
    }
    return { gradNorm, clipFactor };
  }
}
