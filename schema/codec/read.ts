/**
 * Reading a whole gradient file: validate strictly, then view its tensors without copying.
 */
import type { ParamLayout } from "./chunking.ts";
import { gradientLayout } from "./chunking.ts";
import { type CompressedParam, tensorName } from "./gradient-format.ts";
import { readFloat32 } from "./safetensors.ts";
import { type ValidationOptions, type ValidationReport, validateGradient } from "./validate.ts";

export interface GradientFile {
  readonly report: ValidationReport;
  /** Manifest order. */
  readonly params: CompressedParam[];
  readonly layouts: ParamLayout[];
}

/** Validates a gradient file held in memory and returns its compressed parameters (views into `bytes`). */
export function readGradientFile(bytes: Uint8Array, options: ValidationOptions): GradientFile {
  const report = validateGradient(bytes, options);
  const layouts = gradientLayout(options.manifest, options.hparams.compression);
  const view = (param: string, part: "idxs" | "codes" | "lookup" | "shift") => {
    const r = report.tensors[tensorName(param, part)] as { begin: number; end: number };
    return bytes.subarray(r.begin, r.end);
  };
  const params = layouts.map((l) => {
    const lookup = view(l.name, "lookup");
    return {
      name: l.name,
      formatVersion: report.metadata.format_version,
      idxs: view(l.name, "idxs"),
      codes: view(l.name, "codes"),
      lookup: readFloat32(lookup, lookup.length / 4),
      shift: readFloat32(view(l.name, "shift"), 1)[0] as number,
    };
  });
  return { report, params, layouts };
}
