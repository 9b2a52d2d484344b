/**
 * A worker of the parallel encoder (./parallel-encode.ts): takes chunk-range tasks off a shared
 * counter and writes their top-k into the shared index and value arrays; the worker that ends a
 * parameter's last task finishes that parameter (quantization and coding, over all its chunks)
 * and sends it back. Which worker runs which task does not matter: each chunk's selection
 * depends on that chunk alone, and a parameter's finish on its selection alone.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ParamLayout } from "../../schema/codec/chunking.ts";
import { finishParam } from "../../schema/codec/encode.ts";
import { selectChunks, selectChunksByBits } from "../../schema/codec/topk.ts";
import { EdgeError } from "../../schema/errors.ts";
import {
  ABORTED,
  type EncodeJob,
  MAX_SCAN_THREADS,
  NEXT_TASK,
  SCAN_SCRATCH_BYTES,
  TASK_FIELDS,
  type WorkerReply,
} from "./parallel-encode-protocol.ts";
import { scanKernel, simdChunkScanner, type WasmMemory } from "./simd-scan.ts";

const port = parentPort;
if (!port) throw new Error("parallel-encode-worker.ts runs as a worker thread only");
/** This worker's number in its pool: which candidate area of the memory is its own. */
const index = (workerData as { index: number }).index;

/** Blocks until copied[0] ≥ need. */
function awaitCopied(copied: Int32Array, need: number): void {
  for (;;) {
    const got = Atomics.load(copied, 0);
    if (got >= need) return;
    Atomics.wait(copied, 0, got);
  }
}

/** Runs tasks until none are left or another worker failed, sending back each parameter it finishes. */
function runJob(job: EncodeJob, send: (reply: WorkerReply) => void): void {
  const { gradient, indices, values, tasks, control, layouts, compression } = job;
  const useDct = compression.use_dct;
  const count = tasks.length / TASK_FIELDS;
  const kernel = job.memory && index < MAX_SCAN_THREADS && !useDct ? scanKernel(job.memory) : undefined;
  for (;;) {
    if (Atomics.load(control, ABORTED) !== 0) return;
    const t = Atomics.add(control, NEXT_TASK, 1);
    if (t >= count) return;
    const at = t * TASK_FIELDS;
    const p = tasks[at] as number;
    const layout = layouts[p] as ParamLayout;
    const dense = tasks[at + 3] as number;
    const selected = tasks[at + 4] as number;
    const n = layout.chunks * layout.k;
    const [from, to] = [tasks[at + 1] as number, tasks[at + 2] as number];
    // The task reads up to the end of its last chunk's band of rows: wait until that is copied in.
    awaitCopied(job.copied, dense + (Math.floor((to - 1) / layout.gridCols) + 1) * layout.h * layout.cols);
    const param = gradient.subarray(dense, dense + layout.numel);
    const [idx, val] = [indices.subarray(selected, selected + n), values.subarray(selected, selected + n)];
    if (kernel) {
      const scanner = simdChunkScanner(
        kernel,
        job.memory as WasmMemory,
        job.scratchAt + index * SCAN_SCRATCH_BYTES,
        param,
        layout,
      );
      selectChunksByBits(param, layout, idx, val, from, to, scanner);
    } else selectChunks(param, layout, useDct, idx, val, from, to);
    if (Atomics.add(job.finished, p, 1) + 1 === job.parts[p])
      send({ kind: "param", index: p, param: finishParam(layout, idx, val, compression, job.version) });
  }
}

/** Posts a reply, handing over (not copying) the buffers of a finished parameter. */
function post(reply: WorkerReply): void {
  if (reply.kind !== "param") {
    (port as NonNullable<typeof port>).postMessage(reply);
    return;
  }
  const { idxs, codes, lookup } = reply.param;
  const buffers = new Set([idxs.buffer, codes.buffer, lookup.buffer].filter((b) => b instanceof ArrayBuffer));
  (port as NonNullable<typeof port>).postMessage(reply, [...buffers] as ArrayBuffer[]);
}

port.on("message", (job: EncodeJob) => {
  let reply: WorkerReply;
  try {
    runJob(job, post);
    reply = { kind: "done" };
  } catch (e) {
    // Tell the others to stop early: the encode fails whatever they find.
    Atomics.store(job.control, ABORTED, 1);
    reply =
      e instanceof EdgeError
        ? { kind: "failed", code: e.code, message: e.message }
        : { kind: "failed", message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  post(reply);
});
