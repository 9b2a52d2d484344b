/**
 * `npm start`: the local network end to end — the subtensor runtime with chain time kept in step
 * with the wall clock, the validator in wrangler dev, a runner, honest miners and one of each
 * adversary — printing a line per window until Ctrl-C or --windows N, then a table of the run.
 *
 *   npm start -- [--windows N] [--honest 4] [--no-adversaries] [--profile local] [--table FILE] [--dir .local/network]
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./artifacts/files.ts";
import { interruptSignal } from "./local-network/interrupt.ts";
import { lineup } from "./local-network/lineup.ts";
import { localProfileError } from "./local-network/network.ts";
import { runLocalNetwork } from "./local-network/run.ts";
import { runTable, windowLine } from "./local-network/window-log.ts";

const USAGE = `npm start -- [options]: the local network (chain, validator, runner, miners), a line per window

  --windows N        stop after N windows (default: until Ctrl-C)
  --honest N         honest miners (default 4)
  --no-adversaries   leave out the cheating personas
  --profile P        hparams profile: local (default) or llama-tiny
  --table FILE       also write the final table to FILE
  --dir DIR          state and logs (default .local/network, wiped at start)
  --help             this text`;

const OPTIONS = {
  help: { type: "boolean", default: false },
  windows: { type: "string" },
  honest: { type: "string", default: "4" },
  "no-adversaries": { type: "boolean", default: false },
  table: { type: "string" },
  dir: { type: "string", default: path.join(ROOT, ".local/network") },
  profile: { type: "string", default: "local" },
} as const;

/** The parsed options; an unknown option or a missing value prints the usage and exits 2. */
function options() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (e) {
    console.error(`start: ${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const values = options();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const windows = values.windows === undefined ? undefined : Number(values.windows);
const honest = Number(values.honest);
if (
  (windows !== undefined && !(Number.isInteger(windows) && windows > 0)) ||
  !(Number.isInteger(honest) && honest > 0)
) {
  console.error("start: --windows and --honest take positive integers");
  process.exit(2);
}

const profile = values.profile as string;
const profileError = localProfileError(profile);
if (profileError) {
  console.error(`start: ${profileError}`);
  process.exit(2);
}

const stop = interruptSignal("stopping");

const time = () => new Date().toISOString().slice(11, 19);
const { records, roster } = await runLocalNetwork({
  lineup: lineup(honest, !values["no-adversaries"]),
  dir: values.dir as string,
  profile,
  ...(windows === undefined ? {} : { windows }),
  stopSignal: stop,
  log: (line) => console.log(`${time()} ${line}`),
  onWindow: (record, r) => console.log(`${time()} ${windowLine(record, r)}`),
});
if (records.length) {
  const table = runTable(records, roster);
  console.log(`\n${table}`);
  if (values.table) {
    writeFileSync(values.table, `${table}\n`);
    console.log(`table written to ${values.table}`);
  }
}
process.exit(0);
