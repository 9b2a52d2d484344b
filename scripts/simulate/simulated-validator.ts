/**
 * The validator's side of a window, in one process and without D1, R2 or the chain, but through
 * the same code the Worker and the runner run: the codec's validation, the copy rules
 * (schema/copies), the runner's evaluation (gpu-runner/evaluator.ts), the peer list, scoring and
 * weights (schema/scoring) and the runner's outer step (gpu-runner/outer-step.ts). What the
 * Worker keeps in D1 between windows (uid states, earlier digests, the weights in force, θ's
 * sample for the sync check) is kept here in memory.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { SampleReader } from "../../gpu-runner/dataset-reader.ts";
import { measureGradient, referenceStep } from "../../gpu-runner/evaluator.ts";
import type { LossSession } from "../../gpu-runner/model/loss-session.ts";
import { applyOuterStep, heldoutLoss } from "../../gpu-runner/outer-step.ts";
import { HostThetaLosses, type MeasuredLosses } from "../../gpu-runner/theta-losses.ts";
import type { ParamLayout } from "../../schema/codec/chunking.ts";
import { sampleParams } from "../../schema/codec/encode.ts";
import type { CompressedParam } from "../../schema/codec/gradient-format.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import { type ValidationReport, validateGradient } from "../../schema/codec/validate.ts";
import { type CopyCandidate, type FoundCopy, findCopies } from "../../schema/copies/find-copies.ts";
import { fingerprintOf, fingerprintReads } from "../../schema/copies/fingerprint.ts";
import { fingerprintSample } from "../../schema/copies/fingerprint-sample.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { Hparams } from "../../schema/hparams.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { heldoutSamples, minerPool, ownSamples, randomSamples } from "../../schema/sampling/assignment.ts";
import { relativeImprovement } from "../../schema/scoring/gradient-score.ts";
import { choosePeers, type PeerList } from "../../schema/scoring/peer-list.ts";
import {
  scoreWindow,
  type ThetaSample,
  type UidUpload,
  type UidWindowLine,
  type UploadOutcome,
} from "../../schema/scoring/score-window.ts";
import { nextStepEma } from "../../schema/scoring/sync-score.ts";
import type { UidScoreState } from "../../schema/scoring/uid-score-state.ts";
import { weightSetOf } from "../../schema/scoring/weights.ts";
import type { MinerUpload } from "./simulated-miners.ts";

export interface ValidatorOptions {
  readonly hparams: Hparams;
  readonly manifest: ModelManifest;
  readonly layouts: readonly ParamLayout[];
  /** A loss session of the evaluation batch (own_samples), which also measures held-out loss. */
  readonly session: LossSession;
  readonly data: SampleReader;
  readonly trainSamples: number;
  readonly heldoutCount: number;
  readonly netuid: number;
  /** uid → hotkey of every neuron (miners and the validator). */
  readonly metagraph: ReadonlyMap<number, string>;
  /** The run's seed: with the window, it makes the window's seed block hash. */
  readonly seed: number;
}

/** Everything a window did, for the simulation's report. */
export interface WindowOutcome {
  readonly window: number;
  readonly heldoutLossBefore: number;
  readonly heldoutLossAfter: number;
  /** The uids whose gradients went into θ_{S+1}. */
  readonly applied: readonly number[];
  readonly peers: PeerList;
  readonly lines: readonly UidWindowLine[];
  /** The weights in force after the window's scoring (the latest weight set; all burned before the first). */
  readonly weights: ReadonlyMap<number, number>;
  readonly copies: readonly FoundCopy[];
  /** Each evaluated uid's per-sample losses, for analysis. */
  readonly sampleLosses: ReadonlyMap<number, NonNullable<ReturnType<typeof samplesOf>>>;
}

interface Received {
  readonly upload: MinerUpload;
  readonly submissionId: number;
  readonly report?: ValidationReport;
  readonly invalid?: EdgeError;
}

function samplesOf(outcome: UploadOutcome) {
  return outcome.kind === "evaluated" ? (outcome.losses.samples ?? null) : null;
}

export class SimulatedValidator {
  readonly #o: ValidatorOptions;
  #theta: Float32Array;
  #thetaSample: ThetaSample;
  #states = new Map<number, UidScoreState>();
  #earlier: CopyCandidate[] = [];
  #weights: ReadonlyMap<number, number>;
  #nextSubmissionId = 1;
  #aggregate: Float32Array | undefined;
  /** Whether any uid has had a positive final score yet (genesis ends with the first). */
  #everRated = false;

  constructor(o: ValidatorOptions, theta0: Float32Array) {
    this.#o = o;
    this.#theta = Float32Array.from(theta0);
    this.#thetaSample = { sample: sampleParams(this.#theta, o.layouts, o.hparams.sync), stepEma: null };
    this.#weights = new Map([[o.hparams.weights.burn_uid, 1]]);
  }

  /** θ of the next window to train (θ_S before `window(S)`, θ_{S+1} after it). */
  get theta(): Float32Array {
    return this.#theta;
  }

  /** The aggregate of the last outer step that applied one, as the Worker publishes it. */
  get aggregate(): Float32Array | undefined {
    return this.#aggregate;
  }

  /** The window's seed block hash: no miner knows it before the window's put window closes. */
  seedHash(window: number): string {
    return `0x${bytesToHex(sha256(new TextEncoder().encode(`simulation ${this.#o.seed} window ${window}`)))}`;
  }

  #receive(uploads: readonly MinerUpload[], window: number): Received[] {
    const { manifest, hparams, netuid } = this.#o;
    return uploads
      .filter((u) => !u.late)
      .map((upload) => {
        const submissionId = this.#nextSubmissionId++;
        try {
          const report = validateGradient(upload.file, {
            manifest,
            hparams,
            expect: { netuid, window, uid: upload.uid, hotkey: upload.hotkey },
          });
          return { upload, submissionId, report };
        } catch (e) {
          if (!(e instanceof EdgeError)) throw e;
          return { upload, submissionId, invalid: e };
        }
      });
  }

  /** Copy detection over the window's valid submissions, as copies/detect-window-copies.ts runs it: each offender's worst flag. */
  #copies(valid: readonly Received[], window: number, seedHash: string): Map<number, FoundCopy> {
    const { layouts, hparams } = this.#o;
    const sample = fingerprintSample(seedHash, layouts, hparams.copy);
    const current = valid.map((r, i) => {
      const report = r.report as ValidationReport;
      const ranges = Object.fromEntries(Object.entries(report.tensors).map(([n, t]) => [n, [t.begin, t.end] as const]));
      const reads = fingerprintReads(layouts, sample, ranges, report.metadata.format_version);
      const fingerprint = fingerprintOf(
        reads,
        reads.map((read) => r.upload.file.subarray(read.offset, read.offset + read.length)),
      );
      return {
        submissionId: r.submissionId,
        uid: r.upload.uid,
        window,
        receivedAtMs: i,
        tensorDigest: report.tensorDigest,
        fingerprint,
      };
    });
    const digests = new Set(current.map((c) => c.tensorDigest));
    const flags = findCopies(
      current,
      this.#earlier.filter((e) => digests.has(e.tensorDigest)),
      hparams.copy,
    );
    this.#earlier.push(...current.map(({ fingerprint: _, ...candidate }) => candidate));
    const worst = new Map<number, FoundCopy>();
    for (const f of flags) {
      const w = worst.get(f.offender.submissionId);
      if (!w || (f.kind === "exact" && w.kind === "near") || (f.kind === w.kind && f.overlap > w.overlap))
        worst.set(f.offender.submissionId, f);
    }
    return worst;
  }

  /** Every valid, non-copied submission evaluated on θ_S, as a runner evaluates a batch, against the window's reference step. */
  async #evaluate(accepted: readonly Received[], window: number, seedHash: string) {
    const { hparams, manifest, session, data, trainSamples, netuid, layouts } = this.#o;
    const poolSize = hparams.training.inner_steps * hparams.training.batch_size;
    const random = randomSamples(seedHash, trainSamples, hparams.evaluation.random_samples);
    const randomTokens = await data.samples("train", random.samples);
    const theta = new HostThetaLosses(session, this.#theta);
    const beforeRandom: MeasuredLosses = await theta.losses(randomTokens);
    const evalLr = hparams.training.outer_learning_rate * hparams.evaluation.eval_lr_factor;
    const step = referenceStep(
      accepted.map((r) => readGradientFile(r.upload.file, { manifest, hparams }).params),
      layouts,
      hparams.compression.use_dct,
      evalLr,
    );
    const reference = step
      ? { step, randomAfter: (await theta.withStep(step, (at) => at(randomTokens))).result }
      : undefined;
    const out = new Map<number, Awaited<ReturnType<typeof measureGradient>>>();
    for (const r of accepted) {
      const uid = r.upload.uid;
      const own = ownSamples(
        seedHash,
        uid,
        minerPool(uid, window, trainSamples, poolSize),
        hparams.evaluation.own_samples,
      );
      out.set(
        uid,
        await measureGradient({
          theta,
          bytes: r.upload.file,
          validation: { manifest, hparams, expect: { netuid, window, uid, hotkey: r.upload.hotkey } },
          evalLr,
          own: await data.samples("train", own.samples),
          random: randomTokens,
          beforeRandom,
          ...(reference ? { reference } : {}),
        }),
      );
    }
    return out;
  }

  /** The outer step of the window: the peers' gradients into θ_{S+1}. */
  #outerStep(peers: PeerList, byUid: ReadonlyMap<number, Received>): number[] {
    const { hparams, layouts } = this.#o;
    const applied: { uid: number; params: CompressedParam[] }[] = peers.peers.map((peer) => ({
      uid: peer.uid,
      params: readGradientFile((byUid.get(peer.uid) as Received).upload.file, { manifest: this.#o.manifest, hparams })
        .params,
    }));
    if (applied.length === 0) return [];
    const { aggregate, next } = applyOuterStep(
      this.#theta,
      applied.map((a) => a.params),
      layouts,
      hparams.compression.use_dct,
      hparams.training.outer_learning_rate,
    );
    this.#aggregate = aggregate;
    const sample = sampleParams(next, layouts, hparams.sync);
    this.#thetaSample = {
      sample,
      stepEma: nextStepEma(this.#thetaSample.stepEma, this.#thetaSample.sample, sample, hparams.sync.step_ema_alpha),
    };
    this.#theta = next;
    return applied.map((a) => a.uid);
  }

  /** One window, from the uploads to the weights in force after its scoring. */
  async window(window: number, uploads: readonly MinerUpload[]): Promise<WindowOutcome> {
    const { hparams, session, data, heldoutCount, metagraph } = this.#o;
    const seedHash = this.seedHash(window);
    const received = this.#receive(uploads, window);
    const valid = received.filter((r) => r.report);
    const copied = this.#copies(valid, window, seedHash);
    const accepted = valid.filter((r) => !copied.has(r.submissionId));

    const evaluations = await this.#evaluate(accepted, window, seedHash);
    // The outer step's peers are chosen once the window is evaluated, from the states before its scoring.
    const finals = new Map([...this.#states].map(([uid, s]) => [uid, s.finalScore]));
    const banned = new Set([...this.#states].filter(([, s]) => s.banWindowsLeft > 0).map(([uid]) => uid));
    const peers = choosePeers(
      accepted.map((r) => {
        const e = evaluations.get(r.upload.uid);
        const ok = e !== undefined && !e.error;
        return {
          uid: r.upload.uid,
          submissionId: r.submissionId,
          evaluated: ok,
          gradientScore: ok ? relativeImprovement(e.loss_before_random as number, e.loss_after_random as number) : null,
        };
      }),
      finals,
      banned,
      this.#everRated,
      hparams.weights,
    );

    const thetaS = this.#thetaSample;
    const heldout = heldoutSamples(heldoutCount, hparams.evaluation.heldout_samples);
    const tools = { session, data };
    const heldoutLossBefore = await heldoutLoss(tools, this.#theta, heldout);
    const applied = this.#outerStep(peers, new Map(accepted.map((r) => [r.upload.uid, r])));
    const heldoutLossAfter = applied.length ? await heldoutLoss(tools, this.#theta, heldout) : heldoutLossBefore;

    const scoring = scoreWindow({
      window,
      hparams,
      metagraph,
      states: this.#states,
      uploads: this.#outcomes(uploads, received, copied, evaluations),
      theta: thetaS,
    });
    this.#states = new Map(scoring.states);
    this.#everRated ||= [...scoring.states.values()].some((s) => s.finalScore > 0);
    if (window % hparams.weights.windows_per_weights === 0) {
      const finalsAfter = new Map([...scoring.states].map(([uid, s]) => [uid, s.finalScore]));
      this.#weights = weightSetOf(finalsAfter, hparams.weights).vector.weights;
    }
    const sampleLosses = new Map<number, NonNullable<ReturnType<typeof samplesOf>>>();
    for (const [uid, upload] of this.#outcomes(uploads, received, copied, evaluations)) {
      const s = samplesOf(upload.outcome);
      if (s) sampleLosses.set(uid, s);
    }
    return {
      window,
      heldoutLossBefore,
      heldoutLossAfter,
      applied,
      peers,
      lines: scoring.lines,
      weights: this.#weights,
      copies: [...copied.values()],
      sampleLosses,
    };
  }

  /** What became of each uid's upload, as workers/scoring/window-uploads.ts reads it from D1. */
  #outcomes(
    uploads: readonly MinerUpload[],
    received: readonly Received[],
    copied: ReadonlyMap<number, FoundCopy>,
    evaluations: ReadonlyMap<number, Awaited<ReturnType<typeof measureGradient>>>,
  ): Map<number, UidUpload> {
    const out = new Map<number, UidUpload>();
    for (const u of uploads.filter((x) => x.late))
      out.set(u.uid, { hotkey: u.hotkey, outcome: { kind: "refused", code: "UPLOAD_TOO_LATE" } });
    for (const r of received) {
      const { uid, hotkey } = r.upload;
      const flag = copied.get(r.submissionId);
      const e = evaluations.get(uid);
      let outcome: UploadOutcome;
      if (r.invalid) outcome = { kind: "invalid", submissionId: r.submissionId, code: r.invalid.code };
      else if (flag) {
        outcome = {
          kind: "copied",
          submissionId: r.submissionId,
          code: flag.kind === "exact" ? "COPY_EXACT" : "COPY_NEAR",
          grade: flag.grade,
          overlap: flag.overlap,
          originalUid: flag.original.uid,
        };
      } else if (e?.error) outcome = { kind: "eval_failed", submissionId: r.submissionId, code: e.error.code };
      else if (e) {
        const s = e.sample_losses;
        outcome = {
          kind: "evaluated",
          submissionId: r.submissionId,
          losses: {
            lossBeforeOwn: e.loss_before_own as number,
            lossAfterOwn: e.loss_after_own as number,
            lossBeforeRandom: e.loss_before_random as number,
            lossAfterRandom: e.loss_after_random as number,
            samples: s && {
              ownBefore: s.own_before,
              ownAfter: s.own_after,
              randomBefore: s.random_before,
              randomAfter: s.random_after,
              referenceOwnAfter: s.reference_own_after ?? null,
              referenceRandomAfter: s.reference_random_after ?? null,
            },
          },
          paramSample: (r.report as ValidationReport).metadata.param_sample,
        };
      } else outcome = { kind: "not_evaluated", submissionId: r.submissionId };
      out.set(uid, { hotkey, outcome });
    }
    return out;
  }
}
