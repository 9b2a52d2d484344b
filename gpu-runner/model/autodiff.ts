/**
 * Build-time reverse-mode autodiff over the graph builder. Each differentiable op emits its
 * forward nodes and records a backward closure on the tape; `backward(loss)` walks the tape in
 * reverse and emits the gradient nodes. A disabled tape records nothing, so the forward-only
 * graph is exactly the nodes the ops emit (docs/MODEL.md §1).
 */
import type { GraphBuilder, Value } from "./onnx-graph.ts";

/**
 * Given the gradient of an op's output, one entry per input: a thunk emitting that input's
 * gradient (same shape as the input), called only when the input needs one; undefined for inputs
 * that never do (indices, masks). Work shared by several inputs goes before the thunks.
 */
export type Backward = (gy: Value) => readonly ((() => Value) | undefined)[];

interface TapeEntry {
  readonly output: Value;
  readonly inputs: readonly Value[];
  readonly needs: readonly boolean[];
  readonly backward: Backward;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Sums a broadcast gradient back to `shape` (leading axes and axes of size 1 in `shape`). */
export function sumToShape(g: GraphBuilder, gy: Value, shape: readonly number[]): Value {
  if (sameShape(gy.shape, shape)) return gy;
  const lead = gy.shape.length - shape.length;
  if (lead < 0) throw new Error(`cannot sum [${gy.shape}] to [${shape}]`);
  const axes: number[] = [];
  gy.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const kept = gy.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const summed = g.node("ReduceSum", [gy, g.ints(axes)], kept, { keepdims: 1 });
  return sameShape(kept, shape) ? summed : g.node("Reshape", [summed, g.ints(shape)], shape);
}

/** The graph output holding d loss / d `param`. */
export function gradientOutput(param: string): string {
  return `grad.${param}`;
}

export class Tape {
  readonly g: GraphBuilder;
  /** Whether gradients are wanted; when false, `record` and `track` only pass values through. */
  readonly enabled: boolean;
  readonly #entries: TapeEntry[] = [];
  /** Names of the values that depend on a tracked value (their gradient is wanted). */
  readonly #tracked = new Set<string>();

  constructor(g: GraphBuilder, enabled: boolean) {
    this.g = g;
    this.enabled = enabled;
  }

  /** Marks a value (a parameter) as one whose gradient `backward` can return. */
  track(v: Value): Value {
    if (this.enabled) this.#tracked.add(v.name);
    return v;
  }

  /** Records how to differentiate `output` with respect to `inputs`; returns `output`. */
  record(output: Value, inputs: readonly Value[], backward: Backward): Value {
    if (!this.enabled) return output;
    const needs = inputs.map((v) => this.#tracked.has(v.name));
    if (needs.some(Boolean)) {
      this.#entries.push({ output, inputs, needs, backward });
      this.#tracked.add(output.name);
    }
    return output;
  }

  /**
   * Emits the backward nodes of a scalar `loss` and returns d loss / d v for each of `wrt`.
   * A value used several times gets its contributions joined by one Sum node.
   */
  backward(loss: Value, wrt: readonly Value[]): Value[] {
    if (!this.enabled) throw new Error("backward on a tape that records nothing");
    if (loss.shape.length !== 0) throw new Error(`the loss must be a scalar, not [${loss.shape}]`);
    const { g } = this;
    const contributions = new Map<string, Value[]>([[loss.name, [g.scalar(1)]]]);
    const total = (v: Value): Value | undefined => {
      const parts = contributions.get(v.name);
      if (parts === undefined) return undefined;
      const sum = parts.length === 1 ? (parts[0] as Value) : g.node("Sum", parts, v.shape);
      contributions.set(v.name, [sum]);
      return sum;
    };
    for (let e = this.#entries.length - 1; e >= 0; e--) {
      const { output, inputs, needs, backward } = this.#entries[e] as TapeEntry;
      const gy = total(output);
      if (gy === undefined) continue; // does not reach the loss
      const thunks = backward(gy);
      inputs.forEach((input, i) => {
        if (!needs[i]) return;
        const thunk = thunks[i];
        if (thunk === undefined) throw new Error(`no gradient rule for input ${i} of ${output.name}`);
        const gx = thunk();
        if (!sameShape(gx.shape, input.shape))
          throw new Error(`gradient of ${input.name} has shape [${gx.shape}], not [${input.shape}]`);
        const parts = contributions.get(input.name);
        if (parts === undefined) contributions.set(input.name, [gx]);
        else parts.push(gx);
      });
    }
    return wrt.map((v) => {
      const gv = total(v);
      if (gv === undefined) throw new Error(`${v.name} does not affect the loss`);
      return gv;
    });
  }

  /** Emits the backward of a scalar `loss` and one `grad.<name>` output per parameter, in the order given. */
  outputGradients(loss: Value, params: readonly { readonly name: string; readonly value: Value }[]): void {
    const grads = this.backward(
      loss,
      params.map((p) => p.value),
    );
    params.forEach(({ name }, i) => {
      this.g.output(gradientOutput(name), grads[i] as Value);
    });
  }
}
