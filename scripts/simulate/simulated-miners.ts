/**
 * The miners of a simulation: the reference miner's own personas and training code
 * (scripts/miner/), each miner with its optimizer and error feedback, its work dir on disk, and
 * the put window reduced to what it decides: an upload in time is received, a late one refused.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { SampleReader } from "../../gpu-runner/dataset-reader.ts";
import { byteModel } from "../../gpu-runner/model/family.ts";
import { GradientSession } from "../../gpu-runner/model/gradient-session.ts";
import type { ParamLayout } from "../../schema/codec/chunking.ts";
import { LATEST_FORMAT_VERSION } from "../../schema/codec/format-version.ts";
import type { Hparams } from "../../schema/hparams.ts";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { minerPool } from "../../schema/sampling/assignment.ts";
import { lcg } from "../bench/synthetic.ts";
import type { MinerSpec } from "../local-network/lineup.ts";
import { PERSONA_FUNCTIONS, type PersonaName } from "../miner/personas.ts";
import { Trainer } from "../miner/trainer.ts";
import { WorkDir } from "../miner/work-dir.ts";

/** The first uid a miner gets: 0 is the subnet owner's, 1 the validator's (and the burn uid of both profiles). */
export const FIRST_MINER_UID = 2;

export interface SimulatedMiner {
  readonly uid: number;
  readonly name: string;
  readonly hotkey: string;
  readonly persona: PersonaName;
  readonly workDir: WorkDir;
  /** The miner whose uploads a copier copies. */
  readonly copies?: string;
}

/** What a miner sent for a window, in the order the validator received it. */
export interface MinerUpload {
  readonly uid: number;
  readonly hotkey: string;
  readonly file: Uint8Array;
  /** Refused at the clock (sent after the put window closed). */
  readonly late: boolean;
}

export interface FleetOptions {
  readonly lineup: readonly MinerSpec[];
  readonly hparams: Hparams;
  readonly manifest: ModelManifest;
  readonly layouts: readonly ParamLayout[];
  readonly data: SampleReader;
  readonly trainSamples: number;
  readonly netuid: number;
  /** Each miner's work dir goes under it. */
  readonly dir: string;
  /** Seeds the personas' randomness. */
  readonly seed: number;
}

export class MinerFleet {
  readonly miners: readonly SimulatedMiner[];
  readonly #o: FleetOptions;
  /** One stateless loss-and-gradient session per batch size, shared by every trainer. */
  readonly #sessions = new Map<number, Promise<GradientSession>>();
  /** Each miner's trainer per batch size: optimizer and error feedback are the miner's own. */
  readonly #trainers = new Map<string, Promise<Trainer>>();

  constructor(o: FleetOptions) {
    this.#o = o;
    this.miners = o.lineup.map((spec, i) => {
      const dir = path.join(o.dir, spec.name);
      mkdirSync(dir, { recursive: true });
      return {
        uid: FIRST_MINER_UID + i,
        name: spec.name,
        hotkey: hotkeySignerFromSecret(`//${spec.name}//hot`).address,
        persona: spec.persona,
        workDir: new WorkDir(dir),
        ...(spec.copies ? { copies: spec.copies } : {}),
      };
    });
  }

  #trainer(miner: SimulatedMiner, batch: number): Promise<Trainer> {
    const key = `${miner.uid}:${batch}`;
    let trainer = this.#trainers.get(key);
    if (!trainer) {
      const hparams = { ...this.#o.hparams, training: { ...this.#o.hparams.training, batch_size: batch } };
      let session = this.#sessions.get(batch);
      if (!session) {
        session = GradientSession.create(byteModel(hparams, "the simulator"), batch);
        this.#sessions.set(batch, session);
      }
      const shared = session;
      trainer = shared.then((s) => Trainer.create(hparams, "cpu", s));
      this.#trainers.set(key, trainer);
    }
    return trainer;
  }

  /**
   * Every miner's upload for window `window`, trained from θ (the checkpoint of `baseWindow`), in
   * lineup order: a copier comes after the miner it copies, as it waits for that upload.
   */
  async uploads(
    window: number,
    theta: Float32Array,
    baseWindow: number,
    previousAggregate: Float32Array | undefined,
  ): Promise<MinerUpload[]> {
    const { hparams, manifest, layouts, data, trainSamples, netuid, seed } = this.#o;
    const poolSize = hparams.training.inner_steps * hparams.training.batch_size;
    const poolOf = (uid: number) => minerPool(uid, window, trainSamples, poolSize);
    const out: MinerUpload[] = [];
    for (const miner of this.miners) {
      const identity = { netuid, window, uid: miner.uid, hotkey: miner.hotkey, base_window: baseWindow };
      const victim = miner.copies ? this.miners.find((m) => m.name === miner.copies) : undefined;
      const upload = await PERSONA_FUNCTIONS[miner.persona]({
        identity,
        theta,
        hparams,
        manifest,
        formatVersion: LATEST_FORMAT_VERSION,
        layouts,
        pool: poolOf(miner.uid),
        poolOf,
        train: async (pool, batch = hparams.training.batch_size) =>
          (await this.#trainer(miner, batch)).trainWindow({
            theta,
            pool,
            samples: (ids) => data.samples("train", ids),
            identity,
          }),
        previousAggregate: async () => previousAggregate,
        workDir: miner.workDir,
        ...(victim ? { copyFrom: victim.workDir } : {}),
        until: async (what, check) => {
          const value = check();
          if (value === undefined) throw new Error(`${miner.name}: nothing to wait for: ${what}`);
          return value;
        },
        random: lcg(seed * 1_000_003 + window * 1009 + miner.uid),
      });
      if (upload.file === null) continue;
      const late = upload.send === "after-put-window";
      out.push({ uid: miner.uid, hotkey: miner.hotkey, file: upload.file, late });
      // Received in time: the miner keeps what it sent (a replayer and a copier read it back).
      if (!late) {
        miner.workDir.recordUpload(upload.file, {
          window,
          uid: miner.uid,
          sha256: "",
          size: upload.file.length,
          received_at_ms: out.length,
        });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    for (const trainer of this.#trainers.values()) await (await trainer).release();
    for (const session of this.#sessions.values()) await (await session).release();
  }
}
