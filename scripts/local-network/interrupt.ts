/** How the local network's command-line tools (`npm start`, `npm run faults`) stop on Ctrl-C. */

/**
 * An AbortSignal that SIGINT or SIGTERM aborts (saying `stopping`, so the tool can stop what it
 * started); a second signal exits at once.
 */
export function interruptSignal(stopping: string): AbortSignal {
  const stop = new AbortController();
  let signals = 0;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (++signals > 1) process.exit(130);
      console.log(`\n${stopping} (Ctrl-C again to exit at once)`);
      stop.abort();
    });
  }
  return stop.signal;
}
