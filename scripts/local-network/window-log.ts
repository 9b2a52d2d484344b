/**
 * What `npm start` prints: one line per window once the validator has scored it and applied its
 * outer step (uploads by verdict, refusals by code, copies caught, held-out bits per byte, the
 * weights on chain and who holds them), and a table of the whole run.
 */
import type { ApiPromise } from "@polkadot/api";
import type { ScoreLineJson, WeightSetJson, WindowReportJson } from "../../schema/api/public.ts";
import { OWN_DATA_TRAINERS } from "../miner/personas.ts";
import { PERSONAS, type Persona } from "./lineup.ts";

export interface WindowRecord {
  readonly window: number;
  readonly report: WindowReportJson;
  /** The validator's score lines of the window (one per uid). */
  readonly scores: readonly ScoreLineJson[];
  /** The weights the validator has on chain when the window is reported: share per uid (sums to 1). */
  readonly chainWeights: ReadonlyMap<number, number>;
  /** The weight set behind them. */
  readonly weightSet: WeightSetJson | null;
  /** The faults noted since the previous window's line (network.ts, fault-log.ts). */
  readonly faults?: readonly string[];
}

export interface Roster {
  /** Persona of each miner uid. */
  readonly personas: ReadonlyMap<number, Persona>;
  /** The format version of the miners told which to write (the others write the highest accepted). */
  readonly formatVersions?: ReadonlyMap<number, number>;
  readonly burnUid: number;
}

/** The validator's weights on chain, normalised to shares. */
export async function chainWeightShares(
  api: ApiPromise,
  netuid: number,
  validatorUid: number,
): Promise<Map<number, number>> {
  const stored = (await api.query.subtensorModule.weights(netuid, validatorUid)).toJSON() as [number, number][];
  const total = stored.reduce((s, [, v]) => s + v, 0);
  return new Map(stored.map(([uid, v]) => [uid, total ? v / total : 0]));
}

/** Weight share per persona (and "burn"), of all weight. */
export function personaShares(
  weights: ReadonlyMap<number, number>,
  roster: Roster,
): Map<Persona | "burn" | "other", number> {
  const out = new Map<Persona | "burn" | "other", number>([
    ["burn", 0],
    ["other", 0],
    ...PERSONAS.map((p) => [p, 0] as const),
  ]);
  for (const [uid, w] of weights) {
    // "other": a uid outside the lineup (a miner someone brought to the local chain).
    const key = uid === roster.burnUid ? "burn" : (roster.personas.get(uid) ?? "other");
    out.set(key, (out.get(key) ?? 0) + w);
  }
  return out;
}

/** The own-data trainers' share (honest, lazy, small-batch) of the weight that is not burned (null when everything is burned). */
export function ownDataShareOfPaid(weights: ReadonlyMap<number, number>, roster: Roster): number | null {
  const shares = personaShares(weights, roster);
  const paid = 1 - (shares.get("burn") ?? 0);
  const trainers = OWN_DATA_TRAINERS.reduce((s, p) => s + (shares.get(p) ?? 0), 0);
  return paid > 1e-9 ? trainers / paid : null;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const bpb = (x: number | null | undefined) => (x == null ? "—" : x.toFixed(3));

/** The line printed for a window. */
export function windowLine(r: WindowRecord, roster: Roster): string {
  const { report } = r;
  const subs = Object.entries(report.submissions)
    .map(([status, n]) => `${status} ${n}`)
    .join(", ");
  const versions = Object.entries(report.format_versions)
    .map(([v, n]) => `v${v} ${n}`)
    .join(", ");
  const refused = Object.entries(report.refusals)
    .map(([code, n]) => `${code}×${n}`)
    .join(", ");
  const copies = report.copies.map((c) => `uid ${c.uid} (${roster.personas.get(c.uid) ?? "?"}, ${c.grade})`).join(", ");
  const step = report.outer_step;
  const weights = r.weightSet
    ? `weights of window ${r.weightSet.window} ${r.weightSet.status}${r.weightSet.set_block ? ` in block ${r.weightSet.set_block}` : ""}`
    : "no weights yet";
  const trainers = ownDataShareOfPaid(r.chainWeights, roster);
  return [
    `window ${report.window}`,
    `uploads: ${subs || "none"}${versions ? ` (${versions})` : ""}`,
    `refused: ${refused || "none"}`,
    `copies: ${copies || "none"}`,
    `held-out ${bpb(step?.heldout_bpb_before)} → ${bpb(step?.heldout_bpb_after)} bpb (${step?.applied_uids?.length ?? 0} peers)`,
    `${weights}; own-data trainers ${trainers === null ? "— (all burned)" : pct(trainers)} of the paid weight`,
    ...(r.faults?.length ? [`faults: ${r.faults.join("; ")}`] : []),
  ].join(" │ ");
}

/** The smallest share any one honest miner holds (the claim is about each of them, not their sum). */
function leastHonestShare(weights: ReadonlyMap<number, number>, roster: Roster): number {
  const honest = [...roster.personas].filter(([, p]) => p === "honest").map(([uid]) => weights.get(uid) ?? 0);
  return honest.length ? Math.min(...honest) : 0;
}

/** A markdown table of a run: held-out bpb and weight share per persona after each window. */
export function runTable(records: readonly WindowRecord[], roster: Roster): string {
  const present = PERSONAS.filter((p) => [...roster.personas.values()].includes(p));
  const head = ["window", "held-out bpb of θ_S", "of θ_{S+1}", ...present, "other uids", "least honest miner", "burn"];
  const rows = records.map((r) => {
    const shares = personaShares(r.chainWeights, roster);
    return [
      String(r.window),
      bpb(r.report.outer_step?.heldout_bpb_before),
      bpb(r.report.outer_step?.heldout_bpb_after),
      ...present.map((p) => pct(shares.get(p) ?? 0)),
      pct(shares.get("other") ?? 0),
      pct(leastHonestShare(r.chainWeights, roster)),
      pct(shares.get("burn") ?? 0),
    ];
  });
  return [head, head.map(() => "---"), ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}
