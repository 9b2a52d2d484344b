/**
 * The gpu-runner CLI: evaluates the validator's batches until stopped.
 *
 *   npm run runner -- --url URL --token TOKEN [--device cpu|cuda] [--once] [--poll-seconds N]
 *
 * The token may also come from $TEMPLAR_RUNNER_TOKEN. SIGINT/SIGTERM stop gracefully (the lease
 * in progress is returned); a second signal exits at once.
 */
import { parseArgs } from "node:util";
import type { Device } from "./model/loss-session.ts";
import { Runner } from "./runner.ts";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8787" },
    token: { type: "string" },
    device: { type: "string", default: "cpu" },
    once: { type: "boolean", default: false },
    "poll-seconds": { type: "string", default: "3" },
  },
});
const token = values.token ?? process.env.TEMPLAR_RUNNER_TOKEN;
if (!token) {
  console.error("runner: a token is required (--token or $TEMPLAR_RUNNER_TOKEN); `npm run runner:token` makes one");
  process.exit(2);
}
if (values.device !== "cpu" && values.device !== "cuda") {
  console.error(`runner: --device must be cpu or cuda, got ${values.device}`);
  process.exit(2);
}
const runner = new Runner({
  url: values.url as string,
  token,
  device: values.device as Device,
  once: values.once as boolean,
  pollSeconds: Number(values["poll-seconds"]),
  log: (line) => console.log(`${new Date().toISOString()} ${line}`),
});
let signals = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (++signals > 1) process.exit(130);
    console.log(`${new Date().toISOString()} runner: ${signal}, stopping after the current submission`);
    runner.stop();
  });
}
await runner.run();
