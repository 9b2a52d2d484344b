/**
 * A worker of the parallel encoder (./parallel-encode.ts): takes chunk-range tasks off a shared
 * counter and writes their top-k into the shared index and value arrays. Which worker runs which
 * task does not matter: each chunk's selection depends on that chunk alone.
 */
import { parentPort } from "node:worker_threads";
import type { ParamLayout } from "../../schema/codec/chunking.ts";
import { selectChunks } from "../../schema/codec/topk.ts";
import { EdgeError } from "../../schema/errors.ts";
import { ABORTED, NEXT_TASK, type SelectJob, TASK_FIELDS, type WorkerReply } from "./parallel-encode-protocol.ts";

const port = parentPort;
if (!port) throw new Error("parallel-encode-worker.ts runs as a worker thread only");

/** Runs tasks until none are left or another worker failed. */
function runJob(job: SelectJob): void {
  const { gradient, indices, values, tasks, control, layouts, useDct } = job;
  const count = tasks.length / TASK_FIELDS;
  for (;;) {
    if (Atomics.load(control, ABORTED) !== 0) return;
    const t = Atomics.add(control, NEXT_TASK, 1);
    if (t >= count) return;
    const at = t * TASK_FIELDS;
    const layout = layouts[tasks[at] as number] as ParamLayout;
    const dense = tasks[at + 3] as number;
    const selected = tasks[at + 4] as number;
    const n = layout.chunks * layout.k;
    selectChunks(
      gradient.subarray(dense, dense + layout.numel),
      layout,
      useDct,
      indices.subarray(selected, selected + n),
      values.subarray(selected, selected + n),
      tasks[at + 1] as number,
      tasks[at + 2] as number,
    );
  }
}

port.on("message", (job: SelectJob) => {
  let reply: WorkerReply;
  try {
    runJob(job);
    reply = { ok: true };
  } catch (e) {
    // Tell the others to stop early: the encode fails whatever they find.
    Atomics.store(job.control, ABORTED, 1);
    reply =
      e instanceof EdgeError
        ? { ok: false, code: e.code, message: e.message }
        : { ok: false, message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  port.postMessage(reply);
});
