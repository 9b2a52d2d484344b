/**
 * What the parallel encoder (./parallel-encode.ts) and its workers (./parallel-encode-worker.ts)
 * send each other. Arrays are views of SharedArrayBuffers, so posting them shares, not copies.
 */
import type { ParamLayout } from "../../schema/codec/chunking.ts";
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

/** One encode's selection work, the same message to every worker. */
export interface SelectJob {
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
  readonly layouts: readonly ParamLayout[];
  readonly useDct: boolean;
}

/** A worker's answer to a job: done, or the first error it met (an EdgeError's code when it had one). */
export type WorkerReply =
  | { readonly ok: true }
  | { readonly ok: false; readonly code?: string; readonly message: string };
