/**
 * The reference miner: trains on its assigned samples each window, compresses, signs and uploads
 * its pseudo-gradient (docs/SPEC.md), and prints one line per window.
 *
 *   npm run miner -- --hotkey SECRET_URI --uid N [--url URL] [--persona NAME] [--windows N]
 *                    [--work-dir DIR] [--copy-from DIR] [--device cpu|cuda] [--format-version 1|2]
 *
 * SECRET_URI is the hotkey's secret URI (a mnemonic or 0x seed with an optional derivation path,
 * or `//Name` on the development phrase); it may also come from $TEMPLAR_MINER_HOTKEY. Personas
 * (scripts/miner/personas.ts): honest (default), free-rider, noise, late, wrong-data, replayer,
 * copier (with --copy-from: the victim miner's work dir), aggregate-replayer, random-delta,
 * huge-values, lazy, small-batch. The gradient format is the highest version the validator's
 * hparams accept (intake.format_versions) unless --format-version names one. SIGINT/SIGTERM stop after the current window; a second signal
 * exits at once.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { FORMAT_VERSIONS, isFormatVersion } from "../schema/codec/format-version.ts";
import { hotkeySignerFromSecret } from "../schema/keys/hotkey-signer.ts";
import { ROOT } from "./artifacts/files.ts";
import { PERSONAS, type PersonaName } from "./miner/personas.ts";
import { ProgressBar } from "./miner/window-line.ts";
import { describe, Miner } from "./miner/window-loop.ts";

function usage(message: string): never {
  console.error(`miner: ${message}`);
  process.exit(2);
}

let values: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      url: { type: "string", default: "http://127.0.0.1:8787" },
      hotkey: { type: "string" },
      uid: { type: "string" },
      persona: { type: "string", default: "honest" },
      windows: { type: "string" },
      "work-dir": { type: "string" },
      "copy-from": { type: "string" },
      device: { type: "string", default: "cpu" },
      "format-version": { type: "string" },
    },
  }).values;
}
try {
  values = parse();
} catch (e) {
  usage((e as Error).message);
}
const secret = values.hotkey ?? process.env.TEMPLAR_MINER_HOTKEY;
if (!secret) usage("a hotkey is required (--hotkey SECRET_URI or $TEMPLAR_MINER_HOTKEY)");
if (!values.uid || !/^\d+$/.test(values.uid)) usage("--uid must be the miner's uid (a non-negative integer)");
if (!(PERSONAS as readonly string[]).includes(values.persona as string))
  usage(`--persona must be one of ${PERSONAS.join(", ")}, got ${values.persona}`);
if (values.persona === "copier" && !values["copy-from"]) usage("the copier needs --copy-from <the victim's work dir>");
if (values.windows !== undefined && !/^[1-9]\d*$/.test(values.windows)) usage("--windows must be a positive integer");
if (values.device !== "cpu" && values.device !== "cuda") usage(`--device must be cpu or cuda, got ${values.device}`);
const formatVersion = values["format-version"] === undefined ? undefined : Number(values["format-version"]);
if (formatVersion !== undefined && !isFormatVersion(formatVersion))
  usage(`--format-version must be one of ${FORMAT_VERSIONS.join(", ")}, got ${values["format-version"]}`);

let signer: ReturnType<typeof hotkeySignerFromSecret>;
try {
  signer = hotkeySignerFromSecret(secret);
} catch (e) {
  usage(describe(e).replace("validator hotkey", "hotkey"));
}
const uid = Number(values.uid);
const progress = new ProgressBar(process.stdout);
let miner: Miner;
try {
  miner = await Miner.connect({
    url: values.url as string,
    signer,
    uid,
    persona: values.persona as PersonaName,
    windows: values.windows === undefined ? undefined : Number(values.windows),
    workDir: path.resolve(values["work-dir"] ?? path.join(ROOT, ".local", "miners", String(uid))),
    copyFrom: values["copy-from"] === undefined ? undefined : path.resolve(values["copy-from"]),
    device: values.device as "cpu" | "cuda",
    formatVersion,
    print: (line) => console.log(line),
    progress,
  });
} catch (e) {
  console.error(`miner: ${describe(e)}`);
  process.exit(1);
}
console.log(
  `miner uid ${uid} hotkey ${signer.address} persona ${values.persona} on ${values.url} (${miner.hparams.profile} profile)`,
);
let stopping = false;
let signals = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (++signals > 1) process.exit(130);
    progress.clear();
    console.log(`miner: ${signal}, stopping after the current window`);
    stopping = true;
  });
}
await miner.run(() => stopping);
await miner.close();
