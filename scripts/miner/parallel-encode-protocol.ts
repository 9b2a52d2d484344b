/**
 * What the parallel encoder (./parallel-encode.ts) and its workers (./parallel-encode-worker.ts)
 * send each other. A job's arrays are views of shared memory, so posting them shares, not copies.
 */
import type { ParamLayout } from "../../schema/codec/chunking.ts";
import type { FormatVersion } from "../../schema/codec/format-version.ts";
import type { CompressedParam } from "../../schema/codec/gradient-format.ts";
import type { CompressionHparams } from "../../schema/hparams.ts";
import type { WasmMemory } from "./simd-scan.ts";

/** Int32 fields per task: parameter number, first chunk, end chunk, offset of the parameter in the gradient, offset of its selection. */
export const TASK_FIELDS = 5;
/** Slot of `control` holding the next task to take (Atomics.add). */
export const NEXT_TASK = 0;
/** Slot of `control` set to 1 when a worker failed, so the others stop. */
export const ABORTED = 1;

/** Workers that can scan with the SIMD kernel: each has its own candidate area in the memory. */
export const MAX_SCAN_THREADS = 64;
/** Bytes of one worker's candidate area: (element number, float32 bits) pairs of a chunk of up to 4096. */
export const SCAN_SCRATCH_BYTES = 4096 * 8;

/** One encode's work, the same message to every worker. */
export interface EncodeJob {
  /** The flat pseudo-gradient, manifest order. */
  readonly gradient: Float32Array;
  /** The WebAssembly memory whose buffer holds `gradient`, for the SIMD kernel; absent, workers scan in JavaScript. */
  readonly memory: WasmMemory | undefined;
  /** Byte offset in `memory` of worker 0's candidate area; worker i's is SCAN_SCRATCH_BYTES · i further. */
  readonly scratchAt: number;
  /** Every parameter's chunks × k indices, at its selection offset. */
  readonly indices: Uint16Array;
  readonly values: Float32Array;
  readonly tasks: Int32Array;
  readonly control: Int32Array;
  /** copied[0]: how many floats of `gradient` hold the caller's values yet (a copy runs while the workers start). */
  readonly copied: Int32Array;
  /** Per parameter: how many of its tasks there are, and how many are done (Atomics.add). */
  readonly parts: Int32Array;
  readonly finished: Int32Array;
  readonly layouts: readonly ParamLayout[];
  readonly compression: CompressionHparams;
  readonly version: FormatVersion;
}

/**
 * What a worker sends back for a job: each parameter whose last task it ran, finished (quantized
 * and coded); then that it is done, or the first error it met (an EdgeError's code when it had one).
 */
export type WorkerReply =
  | { readonly kind: "param"; readonly index: number; readonly param: CompressedParam }
  | { readonly kind: "done" }
  | { readonly kind: "failed"; readonly code?: string; readonly message: string };
