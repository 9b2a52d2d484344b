/**
 * `npm run faults`: the fault suite (scripts/faults/fault-suite.ts) on the local network — the
 * runner killed mid-batch, the validator killed and restarted inside a put window, the chain
 * stalled inside the next one — then the recovery time of each fault and every check. Exits 1 if
 * a check failed.
 *
 *   npm run faults -- [--honest 4] [--stall-seconds 60] [--dir .local/faults]
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./artifacts/files.ts";
import { faultReport, runFaultSuite } from "./faults/fault-suite.ts";
import { interruptSignal } from "./local-network/interrupt.ts";

const USAGE = `npm run faults -- [options]: inject three faults into the local network and check it rides them out

  --honest N           honest miners (default 4)
  --stall-seconds N    how long the chain is stalled (default 60)
  --dir DIR            state and logs (default .local/faults, wiped at start)
  --help               this text`;

let values: { help?: boolean; honest?: string; "stall-seconds"?: string; dir?: string };
try {
  values = parseArgs({
    options: {
      help: { type: "boolean", default: false },
      honest: { type: "string", default: "4" },
      "stall-seconds": { type: "string", default: "60" },
      dir: { type: "string", default: path.join(ROOT, ".local/faults") },
    },
  }).values;
} catch (e) {
  console.error(`faults: ${(e as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const honest = Number(values.honest);
const stallSeconds = Number(values["stall-seconds"]);
if (!(Number.isInteger(honest) && honest > 0) || !(stallSeconds > 0)) {
  console.error("faults: --honest takes a positive integer and --stall-seconds a positive number");
  process.exit(2);
}

const stop = interruptSignal("stopping the fault suite");

const time = () => new Date().toISOString().slice(11, 19);
const result = await runFaultSuite({
  stopSignal: stop,
  dir: values.dir as string,
  honest,
  stallMs: stallSeconds * 1000,
  log: (line) => console.log(`${time()} ${line}`),
});
console.log(`\n${faultReport(result)}`);
const failed = result.checks.filter((c) => !c.ok).length;
console.log(`\n${result.checks.length - failed} checks passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
