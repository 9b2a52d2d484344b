/**
 * Honest uploads beside hostile traffic: a registered miner's signed, format-valid gradient
 * (random values on the validator's θ; this is about intake, not training) for the open put
 * window, timed, with the request kept so that the attacker may overhear and replay it.
 */

import type { ParamLayout } from "../../schema/codec/chunking.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { encodeGradient } from "../../schema/codec/encode.ts";
import type { Hparams } from "../../schema/hparams.ts";
import type { HotkeySigner } from "../../schema/keys/hotkey-signer.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { randomFlat } from "../bench/synthetic.ts";
import { type BaseCheckpoint, MinerApi } from "../miner/miner-api.ts";
import { putGradient, signedHeaders } from "../miner/upload.ts";
import type { OverheardUpload } from "./attack-classes.ts";

export interface HonestMiner {
  readonly name: string;
  readonly uid: number;
  readonly signer: HotkeySigner;
}

export interface HonestOutcome {
  readonly miner: HonestMiner;
  readonly window: number;
  readonly status: number;
  /** The refusal's code; absent when accepted. */
  readonly code?: string;
  /** The upload request's round trip. */
  readonly ms: number;
  readonly request: OverheardUpload;
}

/** What every honest upload of a run shares: the validator's hparams, manifest and θ. */
export class HonestUploader {
  readonly api: MinerApi;
  readonly #hparams: Hparams;
  readonly #manifest: ModelManifest;
  readonly #layouts: ParamLayout[];
  readonly #netuid: number;

  private constructor(api: MinerApi, hparams: Hparams, manifest: ModelManifest, netuid: number) {
    this.api = api;
    this.#hparams = hparams;
    this.#manifest = manifest;
    this.#layouts = gradientLayout(manifest, hparams.compression);
    this.#netuid = netuid;
  }

  /** Reads hparams and the manifest from the validator at `url`. */
  static async create(url: string, netuid: number): Promise<HonestUploader> {
    const api = new MinerApi(url);
    return new HonestUploader(api, await api.hparams(), await api.manifest(), netuid);
  }

  /** The open put window's window and how long it stays open, or null while none is open. */
  async openWindow(): Promise<{
    window: number;
    closesInMs: number;
    closesAtMs: number;
    checkpointWindow: number;
  } | null> {
    const now = await this.api.current();
    const put = now.put_window;
    if (!put || put.state !== "open") return null;
    return {
      window: put.window,
      closesInMs: put.closes_at_ms - Date.now(),
      closesAtMs: put.closes_at_ms,
      checkpointWindow: now.checkpoint_window ?? 0,
    };
  }

  /** Waits until the put window of a window ≥ `fromWindow` is open with at least `leftMs` to go. */
  async awaitOpenWindow(
    leftMs: number,
    fromWindow = 0,
    timeoutMs = 240_000,
  ): Promise<{ window: number; closesAtMs: number; checkpointWindow: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // the validator may not have read the chain yet just after start (503): keep waiting
      const open = await this.openWindow().catch(() => null);
      if (open && open.window >= fromWindow && open.closesInMs >= leftMs) return open;
      if (Date.now() > deadline) throw new Error(`no put window with ${leftMs} ms left within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** θ of `checkpointWindow`, the base an honest miner trains from. */
  checkpoint(checkpointWindow: number): Promise<BaseCheckpoint> {
    return this.api.checkpoint(checkpointWindow, this.#manifest);
  }

  /** `miner`'s signed upload for `window`, trained (nominally) from `base`. */
  async upload(miner: HonestMiner, window: number, base: BaseCheckpoint, seed: number): Promise<HonestOutcome> {
    const { compression, sync, limits } = this.#hparams;
    const { file } = encodeGradient({
      identity: {
        netuid: this.#netuid,
        window,
        uid: miner.uid,
        hotkey: miner.signer.address,
        base_window: base.window,
      },
      gradient: randomFlat(base.params.length, seed),
      parameters: base.params,
      layouts: this.#layouts,
      compression,
      sync,
    });
    if (file.length > limits.max_single_upload_bytes) throw new Error("honest uploads here are single PUTs");
    const target = { url: this.api.url, netuid: this.#netuid, window, uid: miner.uid };
    const headers = signedHeaders(miner.signer, target, file);
    const t0 = performance.now();
    const outcome = await putGradient(target, headers, file);
    const ms = performance.now() - t0;
    return {
      miner,
      window,
      status: outcome.status,
      ms,
      request: { window, uid: miner.uid, headers, body: file },
      ...(outcome.accepted ? {} : { code: outcome.code }),
    };
  }
}
