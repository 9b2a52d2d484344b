/**
 * One seed of a simulation: a fresh validator and lineup of miners, window after window, from
 * the profile's initial parameters. A seed shifts the windows (and so every miner's pool), the
 * seed block hashes (the validator's draws) and the personas' randomness.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { byteModel, modelManifest } from "../../gpu-runner/model/family.ts";
import { LossSession } from "../../gpu-runner/model/loss-session.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { getHparams } from "../../schema/hparams.ts";
import { readCheckpoint } from "../../schema/model/checkpoint.ts";
import { INITIAL_CHECKPOINT_KEY } from "../../schema/model/keys.ts";
import type { MinerSpec } from "../local-network/lineup.ts";
import { OWN_DATA_TRAINERS } from "../miner/personas.ts";
import { LocalDataset } from "./local-dataset.ts";
import { MinerFleet } from "./simulated-miners.ts";
import { SimulatedValidator } from "./simulated-validator.ts";
import type { SeedResult, UidRecord, WindowRecord } from "./simulation-result.ts";

export interface SeedOptions {
  readonly seed: number;
  readonly windows: number;
  readonly profile: string;
  readonly lineup: readonly MinerSpec[];
  /** The profile's artifacts folder (model and data). */
  readonly artifacts: string;
  /** Keep every evaluated uid's per-sample losses in the result. */
  readonly sampleLosses: boolean;
}

/** Windows of seed s are s·WINDOW_STRIDE + 1, +2, …: no two seeds share a window, so no pool. */
export const WINDOW_STRIDE = 1000;
const NETUID = 2;

/** Runs one seed; `progress` gets one line per window. */
export async function runSeed(o: SeedOptions, progress: (line: string) => void): Promise<SeedResult> {
  const hparams = getHparams(o.profile);
  const manifest = modelManifest(hparams.model);
  const layouts = gradientLayout(manifest, hparams.compression);
  const data = new LocalDataset(o.artifacts);
  const theta0 = readCheckpoint(
    new Uint8Array(readFileSync(path.join(o.artifacts, INITIAL_CHECKPOINT_KEY))),
    manifest,
  ).params;
  const dir = mkdtempSync(path.join(tmpdir(), `simulate-${o.seed}-`));
  const fleet = new MinerFleet({
    lineup: o.lineup,
    hparams,
    manifest,
    layouts,
    data,
    trainSamples: data.manifest.splits.train.samples,
    netuid: NETUID,
    dir,
    seed: o.seed,
  });
  const burnUid = hparams.weights.burn_uid;
  const metagraph = new Map([[burnUid, "validator"], ...fleet.miners.map((m) => [m.uid, m.hotkey] as const)]);
  const session = await LossSession.create(byteModel(hparams, "the simulator"), hparams.evaluation.own_samples);
  const validator = new SimulatedValidator(
    {
      hparams,
      manifest,
      layouts,
      session,
      data,
      trainSamples: data.manifest.splits.train.samples,
      heldoutCount: data.manifest.splits.heldout.samples,
      netuid: NETUID,
      metagraph,
      seed: o.seed,
    },
    theta0,
  );
  const personaOf = new Map<number, string>([
    [burnUid, "burn"],
    ...fleet.miners.map((m) => [m.uid, m.persona] as const),
  ]);
  const windows: WindowRecord[] = [];
  let baseWindow = o.seed * WINDOW_STRIDE;
  try {
    for (let w = 1; w <= o.windows; w++) {
      const t0 = performance.now();
      const window = o.seed * WINDOW_STRIDE + w;
      const uploads = await fleet.uploads(window, validator.theta, baseWindow, validator.aggregate);
      const outcome = await validator.window(window, uploads);
      if (outcome.applied.length) baseWindow = window + 1;
      const lines = new Map(outcome.lines.map((l) => [l.uid, l]));
      const applied = new Set(outcome.applied);
      const uids: UidRecord[] = [...personaOf].map(([uid, persona]) => {
        const l = lines.get(uid);
        return {
          uid,
          persona,
          weight: outcome.weights.get(uid) ?? 0,
          peer: applied.has(uid),
          final_score: l?.finalScore ?? 0,
          evidence: l
            ? {
                outcome: l.outcome,
                code: l.code,
                gradient_score: l.gradientScore,
                own_improvement: l.ownImprovement,
                random_improvement: l.randomImprovement,
                indicator_t: l.indicatorT,
                indicator: l.indicator,
                bma: l.bma,
                evidence: l.evidence,
                pay_factor: l.payFactor,
                ordinal: l.ordinal,
                sync_score: l.syncScore,
                penalties: l.penalties.map((p) => p.kind),
              }
            : null,
          ...(o.sampleLosses && outcome.sampleLosses.has(uid) ? { sample_losses: outcome.sampleLosses.get(uid) } : {}),
        };
      });
      const record: WindowRecord = {
        window: w,
        heldout_bpb_before: outcome.heldoutLossBefore / Math.LN2,
        heldout_bpb_after: outcome.heldoutLossAfter / Math.LN2,
        peer_mode: outcome.peers.mode,
        uids,
      };
      windows.push(record);
      progress(progressLine(o.seed, w, o.windows, record, performance.now() - t0));
    }
  } finally {
    await fleet.close();
    await session.release();
    rmSync(dir, { recursive: true, force: true });
  }
  return { seed: o.seed, windows };
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** `seed 2 window 5/24: held-out 7.21 → 6.95 bpb · 3 peers (rated) · paid 50% (own-data 100%, honest 96% of it) · 9.1 s` */
function progressLine(seed: number, w: number, of: number, r: WindowRecord, ms: number): string {
  const paid = r.uids.filter((u) => u.persona !== "burn").reduce((s, u) => s + u.weight, 0);
  const share = (personas: readonly string[]) =>
    r.uids.filter((u) => personas.includes(u.persona)).reduce((s, u) => s + u.weight, 0) / paid;
  const peers = r.uids.filter((u) => u.peer).length;
  return (
    `seed ${seed} window ${w}/${of}: held-out ${r.heldout_bpb_before.toFixed(3)} → ${r.heldout_bpb_after.toFixed(3)} bpb` +
    ` · ${peers} peers (${r.peer_mode}) · paid ${pct(paid)}` +
    (paid > 0 ? ` (own-data ${pct(share(OWN_DATA_TRAINERS))}, honest ${pct(share(["honest"]))} of it)` : "") +
    ` · ${(ms / 1000).toFixed(1)} s`
  );
}
