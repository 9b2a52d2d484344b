/**
 * The gpu-runner CLI: evaluates the validator's batches until stopped.
 *
 *   npm run runner -- --url URL --token TOKEN [--device cpu|cuda] [--once] [--poll-seconds N] [--log-format json|text]
 *
 * The token may also come from $TEMPLAR_RUNNER_TOKEN. SIGINT/SIGTERM stop gracefully (the lease
 * in progress is returned); a second signal exits at once. Logs are JSON lines (runner-log.ts)
 * unless --log-format text.
 */
import { parseArgs } from "node:util";
import type { Device } from "./model/loss-session.ts";
import { Runner } from "./runner.ts";
import { runnerLog } from "./runner-log.ts";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8787" },
    token: { type: "string" },
    device: { type: "string", default: "cpu" },
    once: { type: "boolean", default: false },
    "poll-seconds": { type: "string", default: "3" },
    "log-format": { type: "string", default: "json" },
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
if (values["log-format"] !== "json" && values["log-format"] !== "text") {
  console.error(`runner: --log-format must be json or text, got ${values["log-format"]}`);
  process.exit(2);
}
const log = runnerLog(values["log-format"]);
const runner = new Runner({
  url: values.url as string,
  token,
  device: values.device as Device,
  once: values.once as boolean,
  pollSeconds: Number(values["poll-seconds"]),
  log,
});
let signals = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (++signals > 1) process.exit(130);
    log("runner.stopping", `runner: ${signal}, stopping after the current submission`, { signal });
    runner.stop();
  });
}
await runner.run();
