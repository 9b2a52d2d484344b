// Probing a float64 training graph: its loss (and flat gradient) at any parameters, and central
// differences along a direction, for the byte model's and the llama family's gradient tests.
import type ort from "onnxruntime-node";
import { gradientOutput } from "../../../gpu-runner/model/autodiff.ts";
import { parameterFeeds, trainingFetches } from "../../../gpu-runner/model/session-io.ts";
import type { ParameterSlot } from "../../../schema/model/manifest.ts";

export interface GraphProbe {
  /** Loss (and, when asked, the flat gradient in manifest order) at `params`. */
  evaluate(params: Float64Array, withGradient?: boolean): Promise<{ loss: number; grad?: Float64Array }>;
  /** (L(θ + h·u) − L(θ − h·u)) / 2h for a direction u over the coordinates of θ from `offset` on. */
  centralDifference(theta: Float64Array, offset: number, u: Float64Array, h: number): Promise<number>;
}

/** A probe of the session `session()` fed `data` (the batch's feeds) and the parameters of `slots`. */
export function graphProbe(opts: {
  session: () => ort.InferenceSession;
  data: Record<string, ort.Tensor>;
  slots: readonly ParameterSlot[];
  total: number;
  loss: string;
}): GraphProbe {
  const { slots, total, loss } = opts;
  async function evaluate(params: Float64Array, withGradient = false) {
    const fetches = withGradient ? trainingFetches(loss, slots) : [loss];
    const out = await opts.session().run({ ...opts.data, ...parameterFeeds(slots, params) }, fetches);
    const value = (out[loss] as ort.Tensor).data[0] as number;
    if (!withGradient) return { loss: value };
    const grad = new Float64Array(total);
    for (const { spec, offset } of slots)
      grad.set((out[gradientOutput(spec.name)] as ort.Tensor).data as Float64Array, offset);
    return { loss: value, grad };
  }
  async function centralDifference(theta: Float64Array, offset: number, u: Float64Array, h: number) {
    const plus = theta.slice();
    const minus = theta.slice();
    for (let i = 0; i < u.length; i++) {
      plus[offset + i] = (theta[offset + i] as number) + h * (u[i] as number);
      minus[offset + i] = (theta[offset + i] as number) - h * (u[i] as number);
    }
    return ((await evaluate(plus)).loss - (await evaluate(minus)).loss) / (2 * h);
  }
  return { evaluate, centralDifference };
}

/** A small deterministic generator for picking coordinates and directions. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The Euclidean norm of a vector. */
export function l2(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) ** 2;
  return Math.sqrt(s);
}
