/**
 * The model manifest: which parameters a model has, their shapes and their order.
 *
 * The model builder writes it; the codec checks every gradient file against it; runners and
 * miners lay parameters out in one flat Float32Array in this order.
 */
import { EdgeError } from "../errors.ts";

export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface ModelManifest {
  /** A label for humans and logs, e.g. "templar-edge-local-d128-l3". */
  readonly model: string;
  readonly parameters: readonly ParameterSpec[];
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Where each parameter lives in the flat vector of all parameters, in manifest order. */
export interface ParameterSlot {
  readonly spec: ParameterSpec;
  readonly offset: number;
  readonly numel: number;
}

/** The flat-vector slots of every parameter, and the total element count. */
export function parameterSlots(manifest: ModelManifest): { slots: ParameterSlot[]; total: number } {
  const slots: ParameterSlot[] = [];
  let offset = 0;
  for (const spec of manifest.parameters) {
    const n = numel(spec.shape);
    slots.push({ spec, offset, numel: n });
    offset += n;
  }
  return { slots, total: offset };
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Throws MANIFEST_INVALID unless names are unique and well-formed and every shape is 1-D or 2-D. */
export function assertValidManifest(manifest: ModelManifest): void {
  const seen = new Set<string>();
  if (manifest.parameters.length === 0) throw new EdgeError("MANIFEST_INVALID", "the manifest lists no parameters");
  for (const { name, shape } of manifest.parameters) {
    if (!NAME.test(name))
      throw new EdgeError("MANIFEST_INVALID", `parameter name ${JSON.stringify(name)} is not [A-Za-z0-9_.-]+`);
    if (seen.has(name)) throw new EdgeError("MANIFEST_INVALID", `parameter ${name} is listed twice`);
    seen.add(name);
    if (shape.length < 1 || shape.length > 2) {
      throw new EdgeError(
        "MANIFEST_INVALID",
        `parameter ${name} has rank ${shape.length}; the codec chunks 1-D and 2-D parameters`,
      );
    }
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 1)
        throw new EdgeError("MANIFEST_INVALID", `parameter ${name} has a bad dimension ${d}`);
    }
  }
}
