/**
 * Gradient encoding on several cores (Node only: worker_threads). The top-k selection, most of
 * an encode's time, runs in a persistent pool of worker threads over chunk ranges of a gradient
 * in shared memory; each parameter is then finished (quantized over all its values in one
 * order, its indices and codes packed) by the worker that selected its last chunks, while the
 * others go on selecting; the calling thread writes the file. Every chunk's selection depends on
 * that chunk alone and every parameter's finish on its selection alone, so the file is byte for
 * byte encodeGradient's, whatever the number of threads.
 *
 * The gradient must sit in shared memory for the workers to read it in place. One that does not
 * is copied into the pool's own (one copy of the gradient per encode, made a slice at a time
 * while the workers start on the slices already there); callers that encode every window
 * allocate their buffer with sharedFloat32Array to skip that copy. That memory is a
 * shared WebAssembly memory, so the workers scan it with a SIMD kernel (./simd-scan.ts); a
 * gradient in any other SharedArrayBuffer is scanned in JavaScript, with the same result.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { ParamLayout } from "../../schema/codec/chunking.ts";
import { type EncodeRequest, encodeMetadata, writeGradientFile } from "../../schema/codec/encode.ts";
import { type FormatVersion, LATEST_FORMAT_VERSION } from "../../schema/codec/format-version.ts";
import type { CompressedParam } from "../../schema/codec/gradient-format.ts";
import { EdgeError, isErrorCode } from "../../schema/errors.ts";
import type { CompressionHparams } from "../../schema/hparams.ts";
import {
  ABORTED,
  type EncodeJob,
  MAX_SCAN_THREADS,
  NEXT_TASK,
  SCAN_SCRATCH_BYTES,
  type WorkerReply,
} from "./parallel-encode-protocol.ts";
import { MAX_PAGES, sharedWasmMemory, type WasmMemory } from "./simd-scan.ts";

/** Chunks per task: small enough to balance the threads, large enough that each task's first chunk (no threshold to start from) is rare. */
const CHUNKS_PER_TASK = 256;

/** The WebAssembly memory of each buffer sharedFloat32Array made, and where its candidate areas start. */
const wasmMemories = new WeakMap<ArrayBufferLike, { memory: WasmMemory; scratchAt: number }>();

/**
 * A Float32Array of `length` zeros in shared memory: the pool's workers read it without a copy.
 * It lies at the start of a shared WebAssembly memory (with the workers' candidate areas after
 * it) so that they scan it with SIMD; past what wasm32 addresses, a plain SharedArrayBuffer.
 * One pool at a time may encode from it (the candidate areas are the memory's).
 */
export function sharedFloat32Array(length: number): Float32Array {
  const scratchAt = Math.ceil((length * 4) / 16) * 16;
  const pages = Math.ceil((scratchAt + MAX_SCAN_THREADS * SCAN_SCRATCH_BYTES) / 65536);
  if (pages > MAX_PAGES) return new Float32Array(new SharedArrayBuffer(length * 4));
  const memory = sharedWasmMemory(pages);
  wasmMemories.set(memory.buffer, { memory, scratchAt });
  return new Float32Array(memory.buffer, 0, length);
}

/** True when the array's memory is shared, so the workers can read it in place. */
export function isShared(array: Float32Array): boolean {
  return array.buffer instanceof SharedArrayBuffer;
}

/** Floats copied between two notices to the waiting workers: 4 MB. */
const COPY_SLICE = 1 << 20;

/** Copies `source` into `target` a slice at a time, publishing in copied[0] how far it got. */
function copyInSlices(source: Float32Array, target: Float32Array, copied: Int32Array): void {
  for (let at = 0; at < source.length; at += COPY_SLICE) {
    const end = Math.min(source.length, at + COPY_SLICE);
    target.set(source.subarray(at, end), at);
    Atomics.store(copied, 0, end);
    Atomics.notify(copied, 0);
  }
}

/** A pending job: the parameters received, the workers yet to answer, and how to settle it. */
interface Pending {
  readonly params: CompressedParam[];
  left: number;
  failure: { code?: string; message: string } | undefined;
  resolve: (params: CompressedParam[]) => void;
  reject: (e: unknown) => void;
}

/** A pool of worker threads that encode gradients; reuse it across windows, close it when done. */
export class ParallelEncoder {
  readonly threads: number;
  readonly #workers: Worker[];
  #pending: Pending | undefined;
  #broken: unknown;
  #closed = false;
  /** Settles when the encode before the next one is over. */
  #queue: Promise<void> = Promise.resolve();
  /** Reused shared buffers, grown on demand: the gradient copy, the selected indices and values. */
  #gradient: Float32Array = new Float32Array(0);
  #indices: Uint16Array = new Uint16Array(0);
  #values: Float32Array = new Float32Array(0);
  readonly #control = new Int32Array(new SharedArrayBuffer(8));

  /** Starts `threads` workers (default: one per core the process may use). */
  constructor(threads: number = availableParallelism()) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    this.#workers = Array.from({ length: threads }, (_, index) => {
      const worker = new Worker(new URL("./parallel-encode-worker.ts", import.meta.url), { workerData: { index } });
      worker.on("message", (reply: WorkerReply) => this.#settle(reply));
      worker.on("error", (e) => this.#fail(e));
      worker.on("exit", (code) => {
        if (!this.#closed) this.#fail(new Error(`an encoder worker exited (code ${code})`));
      });
      // Idle workers do not keep the process alive (one that forgets close() still exits); a job refs them.
      worker.unref();
      return worker;
    });
  }

  /**
   * Compresses a pseudo-gradient and writes the gradient file: the bytes encodeGradient gives.
   * Calls made while one runs wait their turn (the pool's buffers serve one encode at a time).
   */
  encode(req: EncodeRequest): Promise<{ file: Uint8Array; params: CompressedParam[] }> {
    const run = this.#queue.then(() => this.#encode(req));
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #encode(req: EncodeRequest): Promise<{ file: Uint8Array; params: CompressedParam[] }> {
    const { layouts, compression } = req;
    const version = req.formatVersion ?? LATEST_FORMAT_VERSION;
    const params = await this.#compress(req.gradient, layouts, compression, version);
    return { file: writeGradientFile(params, layouts, encodeMetadata(req)), params };
  }

  /** Every parameter of a flat gradient (manifest order) compressed by the workers, in manifest order. */
  async #compress(
    gradient: Float32Array,
    layouts: readonly ParamLayout[],
    compression: CompressionHparams,
    version: FormatVersion,
  ): Promise<CompressedParam[]> {
    if (this.#closed) throw new Error("the parallel encoder is closed");
    if (this.#broken) throw this.#broken;
    const total = layouts.reduce((n, l) => n + l.numel, 0);
    if (total !== gradient.length) {
      throw new EdgeError(
        "ENCODE_INPUT_INVALID",
        `the flat vector has ${gradient.length} values, the manifest ${total}`,
      );
    }
    if (layouts.length === 0) return [];
    const { shared, source } = this.#sharedGradient(gradient);
    // How much of the gradient is in shared memory: all of it, or what the copy below has done.
    const copied = new Int32Array(new SharedArrayBuffer(4));
    copied[0] = source ? 0 : gradient.length;
    const wasm = wasmMemories.get(shared.buffer);
    const tasks: number[] = [];
    const parts = new Int32Array(new SharedArrayBuffer(layouts.length * 4));
    let dense = 0;
    let selected = 0;
    layouts.forEach((layout, p) => {
      const count = Math.ceil(layout.chunks / CHUNKS_PER_TASK);
      parts[p] = count;
      for (let t = 0; t < count; t++) {
        const from = Math.floor((t * layout.chunks) / count);
        const to = Math.floor(((t + 1) * layout.chunks) / count);
        tasks.push(p, from, to, dense, selected);
      }
      dense += layout.numel;
      selected += layout.chunks * layout.k;
    });
    if (this.#indices.length < selected) {
      this.#indices = new Uint16Array(new SharedArrayBuffer(selected * 2));
      this.#values = new Float32Array(new SharedArrayBuffer(selected * 4));
    }
    const control = this.#control;
    Atomics.store(control, NEXT_TASK, 0);
    Atomics.store(control, ABORTED, 0);
    const job: EncodeJob = {
      gradient: shared,
      memory: wasm?.memory,
      scratchAt: wasm?.scratchAt ?? 0,
      indices: this.#indices.subarray(0, selected),
      values: this.#values.subarray(0, selected),
      tasks: Int32Array.from(tasks),
      control,
      parts,
      finished: new Int32Array(new SharedArrayBuffer(layouts.length * 4)),
      copied,
      layouts,
      compression,
      version,
    };
    return new Promise<CompressedParam[]>((resolve, reject) => {
      this.#pending = { params: [], left: this.#workers.length, failure: undefined, resolve, reject };
      for (const worker of this.#workers) {
        worker.ref();
        worker.postMessage(job);
      }
      // The workers start on the first parameters while the rest is still being copied.
      if (source) copyInSlices(source, shared, copied);
    }).finally(() => {
      for (const worker of this.#workers) worker.unref();
    });
  }

  /** Stops the workers; the pool cannot encode afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#pending?.reject(new Error("the parallel encoder was closed during an encode"));
    this.#pending = undefined;
  }

  /** The gradient itself when shared, else the pool's shared buffer it is to be copied into (from `source`). */
  #sharedGradient(gradient: Float32Array): { shared: Float32Array; source?: Float32Array } {
    if (isShared(gradient)) return { shared: gradient };
    if (this.#gradient.length < gradient.length) this.#gradient = sharedFloat32Array(gradient.length);
    return { shared: this.#gradient.subarray(0, gradient.length), source: gradient };
  }

  #settle(reply: WorkerReply): void {
    const pending = this.#pending;
    if (!pending) return;
    if (reply.kind === "param") {
      pending.params[reply.index] = reply.param;
      return;
    }
    if (reply.kind === "failed") pending.failure ??= reply;
    if (--pending.left > 0) return;
    this.#pending = undefined;
    const failure = pending.failure;
    if (!failure) pending.resolve(pending.params);
    else if (failure.code !== undefined && isErrorCode(failure.code))
      pending.reject(new EdgeError(failure.code, failure.message));
    else pending.reject(new Error(`an encoder worker failed: ${failure.message}`));
  }

  /** A worker died or could not start: the pool is unusable from now on. */
  #fail(e: unknown): void {
    this.#broken ??= e;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(e);
  }
}
