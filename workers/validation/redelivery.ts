/**
 * Redelivery after a restart. Validation messages in flight when a Worker dies can die with it
 * (`wrangler dev` keeps its queue in memory), so the first cron tick of a fresh isolate re-queues
 * every submission still "received" that arrived before the isolate started, instead of waiting
 * for the periodic lost-validation sweep. Per isolate: module state lives as long as the isolate.
 */

/** When this isolate loaded this module (Worker clock). */
let startedAtMs = Date.now();
let taken = false;

/** The isolate's start the first time it is asked (re-queue what was received before it), null after. */
export function takeRestartCutoff(): number | null {
  if (taken) return null;
  taken = true;
  return startedAtMs;
}

/**
 * Makes the module behave as in a fresh isolate started at `atMs`. For tests only: workerd tests
 * cannot kill the isolate they run in, so they stand a restart in with this.
 */
export function simulateIsolateStart(atMs: number): void {
  startedAtMs = atMs;
  taken = false;
}
