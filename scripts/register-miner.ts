/**
 * Brings one's own miner into a running local network (`npm start` prints the chain and the
 * validator URLs): registers //NAME//hot under coldkey //NAME on the local chain (both funded
 * first) and prints its uid and the command that runs the reference miner as it. A miner in
 * another language uses the uid, the netuid and the hotkey the same way (docs/SPEC.md).
 *
 *   npm run register-miner -- --chain ws://127.0.0.1:PORT --netuid 2 --name Me [--url VALIDATOR_URL]
 */
import { parseArgs } from "node:util";
import { connect, registerMiner } from "./local-chain/subnet.ts";

const USAGE = "usage: npm run register-miner -- --chain WS_URL --netuid N --name NAME [--url VALIDATOR_URL]";
let values: { chain?: string; netuid?: string; name?: string; url?: string };
try {
  ({ values } = parseArgs({
    options: {
      chain: { type: "string" },
      netuid: { type: "string" },
      name: { type: "string" },
      url: { type: "string" },
    },
  }));
} catch (e) {
  console.error(`register-miner: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
const netuid = Number(values.netuid);
if (!values.chain || !values.name || !/^[A-Za-z][A-Za-z0-9]{0,31}$/.test(values.name) || !Number.isInteger(netuid)) {
  console.error(`register-miner: --chain, --netuid and --name (letters and digits) are required\n${USAGE}`);
  process.exit(2);
}
const api = await connect(values.chain);
try {
  const { uid, hotkey } = await registerMiner(api, netuid, values.name);
  console.log(`registered //${values.name}//hot (${hotkey}) on netuid ${netuid}: uid ${uid}`);
  console.log(
    `run it: npm run miner -- --url ${values.url ?? "<validator url>"} --hotkey //${values.name}//hot --uid ${uid}`,
  );
} finally {
  await api.disconnect();
}
