/**
 * Redelivery after a restart. Validation messages in flight when a Worker dies can die with it
 * (`wrangler dev` keeps its queue in memory), so the first cron tick of a fresh isolate re-queues
 * every submission still "received" that arrived before the isolate started, instead of waiting
 * for the periodic lost-validation sweep. Per isolate: module state lives as long as the isolate.
 */

/**
 * When this isolate handled its first event. Not the module's load time: at global scope workerd
 * reports the clock as the epoch (time moves only inside a request), so it is noted by the
 * handlers (workers/index.ts).
 */
let startedAtMs: number | undefined;
let taken = false;

/** Notes that this isolate handles an event at `nowMs`; the first note is its start. */
export function noteIsolateActive(nowMs: number): void {
  startedAtMs ??= nowMs;
}

/** The isolate's start the first time it is asked (re-queue what was received before it), null after. */
export function takeRestartCutoff(nowMs: number): number | null {
  if (taken) return null;
  taken = true;
  return startedAtMs ?? nowMs;
}

/**
 * Makes the module behave as in a fresh isolate started at `atMs`. For tests only: workerd tests
 * cannot kill the isolate they run in, so they stand a restart in with this.
 */
export function simulateIsolateStart(atMs: number): void {
  startedAtMs = atMs;
  taken = false;
}
