/**
 * The reference miner's window loop (docs/SPEC.md §1 and §2.6). For the current window
 * W: wait until the validator has published θ_W (giving up at a deadline that still leaves time
 * to train before W's put window opens, then training from the latest checkpoint), let the
 * persona produce the upload (the honest one trains), wait until the put window of W is open,
 * upload, and poll the verdict. One line per window; a refusal or failure is reported with its
 * code and the loop goes on with the next window.
 */

import { DatasetReader } from "../../gpu-runner/dataset-reader.ts";
import { modelManifest } from "../../gpu-runner/model/family.ts";
import type { Device } from "../../gpu-runner/model/session-io.ts";
import type { SubmissionJson } from "../../schema/api/public.ts";
import type { ParamLayout } from "../../schema/codec/chunking.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { type FormatVersion, writableFormatVersion } from "../../schema/codec/format-version.ts";
import type { GradientIdentity } from "../../schema/codec/gradient-format.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { Hparams } from "../../schema/hparams.ts";
import type { HotkeySigner } from "../../schema/keys/hotkey-signer.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { minerPool } from "../../schema/sampling/assignment.ts";
import { type BaseCheckpoint, type CurrentWindowJson, MinerApi } from "./miner-api.ts";
import { PERSONA_FUNCTIONS, type PersonaContext, type PersonaName } from "./personas.ts";
import { Trainer } from "./trainer.ts";
import { uploadWithRetry } from "./upload.ts";
import { type ProgressBar, type Verdict, type WindowOutcome, windowLine } from "./window-line.ts";
import { WorkDir } from "./work-dir.ts";

export interface MinerOptions {
  readonly url: string;
  readonly signer: HotkeySigner;
  readonly uid: number;
  readonly persona: PersonaName;
  /** Stop after this many windows (default: run until stopped). */
  readonly windows?: number;
  readonly workDir: string;
  /** The victim's work dir (copier). */
  readonly copyFrom?: string;
  readonly device: Device;
  /** The gradient format to write; by default the highest the validator accepts that this miner knows. */
  readonly formatVersion?: FormatVersion;
  readonly print: (line: string) => void;
  readonly progress: ProgressBar;
  /** How often the window clock is polled while waiting. */
  readonly pollMs?: number;
}

/** How many windows the miner waits for a final verdict after an accepted upload. */
const VERDICT_WINDOWS = 2;
/** Window states in which a valid submission may still be found a copy. */
const BEFORE_COPY_DETECTION = new Set(["training", "put_open", "put_closed"]);
/** How long a failing window clock is retried while the miner waits on it. */
const CLOCK_RETRY_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Miner {
  readonly options: MinerOptions;
  readonly hparams: Hparams;
  readonly manifest: ModelManifest;
  readonly #api: MinerApi;
  readonly #data: DatasetReader;
  /** The inner training per batch size (the profile's; the small-batch persona's own). */
  readonly #trainers = new Map<number, Promise<Trainer>>();
  readonly #layouts: readonly ParamLayout[];
  readonly #formatVersion: FormatVersion;
  readonly #trainSamples: number;
  readonly #workDir: WorkDir;
  readonly #copyFrom: WorkDir | undefined;
  readonly #pollMs: number;
  /** How long the last training took, for the checkpoint deadline. */
  #trainMs: number | undefined;

  private constructor(
    options: MinerOptions,
    api: MinerApi,
    hparams: Hparams,
    manifest: ModelManifest,
    data: DatasetReader,
    trainSamples: number,
    trainer: Trainer,
  ) {
    this.#trainers.set(hparams.training.batch_size, Promise.resolve(trainer));
    this.options = options;
    this.#api = api;
    this.hparams = hparams;
    this.manifest = manifest;
    this.#data = data;
    this.#trainSamples = trainSamples;
    this.#layouts = gradientLayout(manifest, hparams.compression);
    const accepted = hparams.intake.format_versions;
    if (options.formatVersion !== undefined && !accepted.includes(options.formatVersion))
      throw new Error(`the validator accepts gradient format versions [${accepted}], not ${options.formatVersion}`);
    this.#formatVersion = options.formatVersion ?? writableFormatVersion(accepted);
    this.#workDir = new WorkDir(options.workDir);
    this.#copyFrom = options.copyFrom === undefined ? undefined : new WorkDir(options.copyFrom);
    this.#pollMs = options.pollMs ?? 500;
  }

  /** Reads the validator's hparams, model and data manifests and opens the trainer. */
  static async connect(options: MinerOptions): Promise<Miner> {
    const api = new MinerApi(options.url);
    const hparams = await api.hparams();
    const manifest = await api.manifest();
    const expected = modelManifest(hparams.model);
    if (JSON.stringify(manifest.parameters) !== JSON.stringify(expected.parameters)) {
      throw new EdgeError(
        "CONFIG_INVALID",
        `the validator's model ${manifest.model} is not the ${hparams.profile} profile's ${expected.model}`,
      );
    }
    const data = new DatasetReader(api.api);
    const trainSamples = (await data.manifest()).splits.train.samples;
    const trainer = await Trainer.create(hparams, options.device);
    return new Miner(options, api, hparams, manifest, data, trainSamples, trainer);
  }

  /** Mines window after window until `windows` are done or `stopping` answers true. */
  async run(stopping: () => boolean = () => false): Promise<void> {
    const { print, progress, windows } = this.options;
    let last = -1;
    let handled = 0;
    let lastProblem = "";
    const pending = new Set<Promise<void>>();
    while (!stopping() && (windows === undefined || handled < windows)) {
      let cur: CurrentWindowJson;
      try {
        // One try: this loop prints the problem and tries again a block later, forever.
        cur = await this.#api.current({ maxTries: 1 });
      } catch (e) {
        const problem = `validator: ${describe(e)}`;
        if (problem !== lastProblem) print(problem);
        lastProblem = problem;
        await sleep(this.hparams.window.block_time_ms);
        continue;
      }
      lastProblem = "";
      if (cur.window <= last) {
        const untilNext = cur.next_put_window.expected_opens_at_ms - Date.now();
        await sleep(Math.min(this.hparams.window.block_time_ms, Math.max(this.#pollMs, untilNext)));
        continue;
      }
      const { outcome, verdict } = await this.mineWindow(cur);
      const report = (o: WindowOutcome) => {
        progress.clear();
        print(windowLine(o));
      };
      // The final verdict comes after copy detection, once the put window has closed: it is
      // awaited beside the next window's training, and the window's line printed then.
      if (verdict) {
        const printed: Promise<void> = verdict.then((v) => {
          report({ ...outcome, verdict: v });
          pending.delete(printed);
        });
        pending.add(printed);
      } else report(outcome);
      last = cur.window;
      handled++;
    }
    await Promise.all(pending);
  }

  /**
   * One window, from the checkpoint to the upload; never throws. An accepted upload comes with
   * the promise of its final verdict.
   */
  async mineWindow(cur: CurrentWindowJson): Promise<{ outcome: WindowOutcome; verdict?: Promise<Verdict> }> {
    const window = cur.window;
    const { persona, uid, signer } = this.options;
    let baseWindow: number | undefined;
    let losses: readonly number[] = [];
    try {
      const base = await this.#baseFor(cur);
      baseWindow = base.window;
      const identity = { netuid: cur.netuid, window, uid, hotkey: signer.address, base_window: base.window };
      const started = performance.now();
      const upload = await PERSONA_FUNCTIONS[persona](this.#context(identity, base.params));
      losses = upload.losses;
      if (losses.length > 0) this.#trainMs = performance.now() - started;
      if (upload.file === null) return { outcome: { window, baseWindow, persona, losses, note: upload.note } };
      const file = upload.file;
      const put = await this.#untilPutWindow(window, upload.send === "after-put-window" ? "closed" : "open");
      if (upload.send === "in-put-window" && put.state !== "open") {
        return { outcome: { window, baseWindow, persona, losses, note: `missed the put window of ${window}` } };
      }
      // Retried only while the put window is open: a late upload is refused, whoever is at fault.
      const sent = await uploadWithRetry(
        signer,
        { url: this.#api.url, netuid: cur.netuid, window, uid },
        file,
        this.hparams.limits,
        {
          untilMs: put.closesAtMs ?? Date.now(),
          onRetry: (e, attempt, delayMs) =>
            this.options.progress.status(
              `window ${window}: upload try ${attempt} failed (${describe(e)}), again in ${(delayMs / 1000).toFixed(1)} s`,
            ),
        },
      );
      if (!sent.accepted) return { outcome: { window, baseWindow, persona, losses, upload: sent, note: upload.note } };
      const s = sent.submission;
      this.#workDir.recordUpload(file, {
        window,
        uid,
        sha256: s.sha256,
        size: s.size_bytes,
        received_at_ms: s.received_at_ms,
      });
      return {
        outcome: { window, baseWindow, persona, losses, upload: sent, note: upload.note },
        verdict: this.#finalVerdict(window),
      };
    } catch (e) {
      return { outcome: { window, baseWindow, persona, losses, note: describe(e) } };
    }
  }

  /**
   * θ to train window W from: θ_W once the validator has published it, else, at the deadline
   * (the expected opening of W's put window minus 1.5× the last training time and 2 s), the
   * latest checkpoint there is.
   */
  async #baseFor(cur: CurrentWindowJson): Promise<BaseCheckpoint> {
    const window = cur.window;
    const estimate = this.#trainMs ?? this.hparams.training.inner_steps * 1000;
    const deadline = cur.next_put_window.expected_opens_at_ms - 1.5 * estimate - 2000;
    let now = cur;
    for (;;) {
      if (now.checkpoint_window !== undefined) {
        if (now.checkpoint_window >= window) break;
      } else {
        // A validator without checkpoint_window: ask for θ_W itself and read whose it is.
        const base = await this.#api.checkpoint(window, this.manifest);
        if (base.window >= window) return base;
      }
      if (Date.now() >= deadline) break;
      this.options.progress.status(`window ${window}: waiting for θ_${window}`);
      await sleep(this.#pollMs);
      now = await this.#current();
      if (now.window !== window) break;
    }
    return this.#api.checkpoint(window, this.manifest);
  }

  #context(identity: GradientIdentity, theta: Float32Array): PersonaContext {
    const { training } = this.hparams;
    const poolSize = training.inner_steps * training.batch_size;
    const poolOf = (uid: number) => minerPool(uid, identity.window, this.#trainSamples, poolSize);
    return {
      identity,
      theta,
      hparams: this.hparams,
      manifest: this.manifest,
      layouts: this.#layouts,
      formatVersion: this.#formatVersion,
      pool: poolOf(identity.uid),
      poolOf,
      train: async (pool, batchSize = training.batch_size) =>
        (await this.#trainerFor(batchSize)).trainWindow({
          theta,
          pool,
          samples: (ids) => this.#data.samples("train", ids),
          identity,
          formatVersion: this.#formatVersion,
          onStep: (step, steps, loss) => this.options.progress.update(identity.window, step, steps, loss),
        }),
      previousAggregate: () => this.#api.aggregate(identity.window - 1, this.manifest),
      workDir: this.#workDir,
      copyFrom: this.#copyFrom,
      until: (what, check) => this.#until(identity.window, what, check),
      random: Math.random,
    };
  }

  /** The trainer for inner steps of `batchSize` samples, opened on first use. */
  #trainerFor(batchSize: number): Promise<Trainer> {
    let trainer = this.#trainers.get(batchSize);
    if (!trainer) {
      const hparams = { ...this.hparams, training: { ...this.hparams.training, batch_size: batchSize } };
      trainer = Trainer.create(hparams, this.options.device);
      this.#trainers.set(batchSize, trainer);
    }
    return trainer;
  }

  /** Polls `check` until it gives a value; throws once the put window of `window` has closed. */
  async #until<T>(window: number, what: string, check: () => T | undefined): Promise<T> {
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      const cur = await this.#current();
      const put = cur.put_window;
      if (
        cur.window > window + 1 ||
        (put && (put.window > window || (put.window === window && put.state === "closed")))
      ) {
        throw new Error(`gave up waiting for ${what}: the put window of ${window} has closed`);
      }
      this.options.progress.status(`window ${window}: waiting for ${what}`);
      await sleep(this.#pollMs);
    }
  }

  /**
   * Waits until the put window of `window` is open (`want` "open": returns "closed" if it was
   * missed) or has closed (`want` "closed"); an open one comes with its close as the validator reports it.
   */
  async #untilPutWindow(
    window: number,
    want: "open" | "closed",
  ): Promise<{ readonly state: "open" | "closed"; readonly closesAtMs?: number }> {
    const closed = { state: "closed" } as const;
    for (;;) {
      const cur = await this.#current();
      const put = cur.put_window;
      if (cur.window > window + 1 || (put && put.window > window)) return closed;
      if (put?.window === window) {
        if (put.state === "closed") return closed;
        if (put.state === "open" && want === "open") return { state: "open", closesAtMs: put.closes_at_ms };
        if (put.state === "open") {
          // Until the Worker's clock is past the closing, then one poll more.
          this.options.progress.status(`window ${window}: waiting for the put window to close`);
          await sleep(Math.max(this.#pollMs, put.closes_at_ms - Date.now() + this.#pollMs));
          continue;
        }
      }
      this.options.progress.status(`window ${window}: waiting for the put window`);
      const untilOpen = cur.next_put_window.expected_opens_at_ms - Date.now();
      await sleep(Math.max(100, Math.min(this.#pollMs, untilOpen)));
    }
  }

  /**
   * The window clock while waiting on it: a transient failure (a busy validator, a blip of the
   * chain) is retried with backoff for up to CLOCK_RETRY_MS before it fails the window.
   */
  #current(): Promise<CurrentWindowJson> {
    return this.#api.current({ untilMs: Date.now() + CLOCK_RETRY_MS });
  }

  /**
   * The submission's verdict once final: `invalid` or `copied`, or `valid` once the window has
   * passed copy detection (its state past `put_closed`). After VERDICT_WINDOWS windows without
   * one, what there is, marked not final. Never throws.
   */
  async #finalVerdict(window: number): Promise<Verdict> {
    const { blocks_per_window, block_time_ms } = this.hparams.window;
    const deadline = Date.now() + VERDICT_WINDOWS * blocks_per_window * block_time_ms;
    let last: SubmissionJson | undefined;
    for (;;) {
      const poll = { untilMs: Math.min(deadline, Date.now() + CLOCK_RETRY_MS) };
      last = (await this.#api.submission(window, this.options.uid, poll).catch(() => undefined)) ?? last;
      if (last?.status === "invalid" || last?.status === "copied") {
        return { status: last.status, code: last.error?.code, final: true };
      }
      if (last?.status === "valid") {
        const state = (await this.#api.window(window, poll).catch(() => undefined))?.state;
        if (state !== undefined && !BEFORE_COPY_DETECTION.has(state)) return { status: "valid", final: true };
      }
      if (Date.now() > deadline) return { status: last?.status ?? "received", code: last?.error?.code, final: false };
      await sleep(Math.max(this.#pollMs, 1000));
    }
  }

  async close(): Promise<void> {
    for (const trainer of this.#trainers.values()) await (await trainer).release();
  }
}

/** An error in one line: its code and message, never a stack. */
export function describe(e: unknown): string {
  if (e instanceof EdgeError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.message ? `${e.message} (${cause.code ?? cause.message})` : e.message;
  }
  return String(e);
}
