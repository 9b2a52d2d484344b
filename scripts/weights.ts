/**
 * The validator's weights, from its public API, and the bytes of a timelocked commit.
 *
 *   npm run weights -- --dry-run [--url URL]   the vector it would set now (after its latest
 *                                              scored window), the scores behind it, each uid's
 *                                              own-data evidence and why it is paid what it is
 *                                              (or not at all), and the window's penalties
 *   npm run weights [--url URL] [--limit N]    the latest weight sets and their way to the chain
 *   npm run weights -- commit-bytes --round R --hotkey SS58 --uids 1,2 --values 65535,100 --version-key K
 *                                              the commit's bytes in hex, one line, for anyone
 *                                              to decrypt with drand's signature of round R
 *
 * Nothing is sent to the chain: the cron Worker sets weights.
 */
import { parseArgs } from "node:util";
import type { WeightSetJson, WeightsPreviewJson } from "../schema/api/public.ts";
import { EdgeError } from "../schema/errors.ts";
import { COMMIT_BYTES_USAGE, commitBytesHex, parseCommitBytesArgs } from "./weights/commit-bytes.ts";

/** The options of the views that read the validator's API. */
function parseViewArgs(args: string[]) {
  return parseArgs({
    args,
    options: {
      url: { type: "string", default: "http://127.0.0.1:8787" },
      "dry-run": { type: "boolean", default: false },
      limit: { type: "string", default: "5" },
      top: { type: "string", default: "10" },
    },
  }).values;
}

async function get<T>(base: string, path: string): Promise<T> {
  const url = `${base}${path}`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`cannot reach the validator at ${base} (${(e as Error).message}); is it running?`);
  }
  const body = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(`${url}: ${res.status} ${body.error?.code}: ${body.error?.message}`);
  return body;
}

const num = (x: number | null, digits = 4) => (x === null ? "—" : x.toFixed(digits));
/** A bar of `width` cells for a value in [0, 1]. */
const bar = (x: number, width = 24) => "█".repeat(Math.round(x * width)).padEnd(width, "·");

/** Prints the weight vector and what explains it. */
export function printPreview(p: WeightsPreviewJson, top: number): void {
  if (p.window === null) {
    console.log("No window has been scored yet: the validator would set no weights.");
    return;
  }
  console.log(
    `Weights the validator would set after window ${p.window} (netuid ${p.netuid}, version_key ${p.version_key}):`,
  );
  console.log(`  burn: uid ${p.burn_uid} gets ${p.burn_rate}; the rest goes to miners with a positive final score\n`);
  console.log("    uid  tier     weight  u16    final    ordinal  evidence  pay     sync    behind");
  const maxWeight = Math.max(...p.weights.map((w) => w.weight));
  for (const w of p.weights) {
    console.log(
      `  ${String(w.uid).padStart(5)}  ${w.tier.padEnd(7)}  ${w.weight.toFixed(4)}  ${String(w.value).padStart(5)}  ` +
        `${num(w.final_score).padStart(7)}  ${num(w.ordinal, 3).padStart(7)}  ${num(w.evidence, 2).padStart(8)}  ` +
        `${num(w.pay_factor, 3).padStart(6)}  ` +
        `${num(w.sync_score, 3).padStart(6)}  ${num(w.steps_behind, 2).padStart(6)}  ${bar(w.weight / maxWeight)}`,
    );
  }
  const miners = p.weights.filter((w) => w.tier !== "burn");
  console.log(`\nTop contributors (final = rating × pay factor of the own-data evidence × sync):`);
  for (const w of miners.slice(0, top))
    console.log(`  uid ${w.uid}: ${(w.weight * 100).toFixed(2)}% — ${w.explanation ?? "no state"}`);
  if (!miners.length) console.log("  none: no miner has a positive final score, everything is burned");
  console.log(`\nPenalties applied in window ${p.window}:`);
  for (const x of p.penalties) console.log(`  uid ${x.uid}: ${x.kind} ×${x.factor} — ${x.reason}`);
  if (!p.penalties.length) console.log("  none");
  if (p.unpaid.length) {
    console.log("\nScored but unpaid (final ≤ 0):");
    for (const u of p.unpaid) console.log(`  uid ${u.uid}: evidence ${num(u.evidence, 2)} — ${u.explanation}`);
  }
  if (p.latest_set) {
    console.log(`\nLatest weight set: ${describeSet(p.latest_set)}`);
    console.log(
      `Mode: ${p.latest_set.mode ?? "chosen at its first attempt"} (read from chain state for every weight set: commit-reveal on or off, timelocked commits in the runtime, WEIGHTS_MODE)`,
    );
  }
}

/** A weight set in one line: status, mode and, when timelocked, its drand round, reveal epoch and outcome. */
export function describeSet(s: WeightSetJson): string {
  const error = s.error ? `; last error ${s.error.code}: ${s.error.message}` : "";
  const where = s.set_block !== null ? ` in block ${s.set_block}` : "";
  const timelock =
    s.mode === "timelocked"
      ? `, drand round ${s.reveal_round}${s.commit_epoch === null ? "" : `, committed in epoch ${s.commit_epoch}`}, reveal epoch from block ${s.reveal_epoch_start_block}` +
        (s.status === "set" ? ", revealed" : s.status === "dropped" ? ", dropped by the chain" : "")
      : "";
  return `window ${s.window}, ${s.status}${where} (${s.mode ?? "not sent yet"}${timelock}, ${s.attempts} failed attempts${error})`;
}

/** The dry-run vector, or the latest weight sets with their events. */
async function showWeights(values: ReturnType<typeof parseViewArgs>): Promise<void> {
  if (values["dry-run"]) {
    const { preview } = await get<{ preview: WeightsPreviewJson }>(values.url, "/v1/weights/latest");
    printPreview(preview, Number(values.top));
    return;
  }
  const { weight_sets } = await get<{ weight_sets: WeightSetJson[] }>(
    values.url,
    `/v1/weights/sets?limit=${values.limit}`,
  );
  if (!weight_sets.length) console.log("No weight sets yet.");
  for (const s of weight_sets) {
    console.log(describeSet(s));
    for (const e of s.events) console.log(`    ${new Date(e.at_ms).toISOString()}  ${e.event}: ${e.message}`);
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  try {
    if (args[0] === "commit-bytes") {
      let request: ReturnType<typeof parseCommitBytesArgs>;
      try {
        request = parseCommitBytesArgs(args.slice(1));
      } catch (e) {
        console.error(`weights commit-bytes: ${(e as Error).message}\n${COMMIT_BYTES_USAGE}`);
        process.exit(2);
      }
      console.log(commitBytesHex(request));
    } else await showWeights(parseViewArgs(args));
  } catch (e) {
    const code = e instanceof EdgeError ? `${e.code}: ` : "";
    console.error(`weights: ${code}${(e as Error).message}`);
    process.exit(1);
  }
}
