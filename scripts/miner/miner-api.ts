/**
 * What the reference miner reads from the validator (docs/SPEC.md §7), over the public routes of
 * ValidatorApi (no token): hparams, the model manifest, the window clock, checkpoints (ETag
 * cached: a checkpoint polled for is downloaded again only when it changes) and verdicts.
 * Every read has a deadline and is retried with backoff while its failure is transient, as long
 * as the caller's `retry` allows (by default until the validator answers).
 */

import { type CallRetry, ValidatorApi } from "../../gpu-runner/validator-api.ts";
import type { PutWindowJson, SubmissionJson, WindowReportJson } from "../../schema/api/public.ts";
import { answerError, withRetry } from "../../schema/api/retry.ts";
import { EdgeError } from "../../schema/errors.ts";
import type { Hparams } from "../../schema/hparams.ts";
import { AGGREGATE_FORMAT, readCheckpoint } from "../../schema/model/checkpoint.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";

/** `GET /v1/windows/current` (docs/SPEC.md §7.2). */
export interface CurrentWindowJson {
  readonly netuid: number;
  readonly block: number;
  readonly block_at_ms: number;
  readonly window: number;
  readonly blocks_per_window: number;
  /** The previous window's put window, opened by the current window's first block. */
  readonly put_window: PutWindowJson | null;
  readonly next_put_window: {
    readonly window: number;
    readonly opening_block: number;
    readonly expected_opens_at_ms: number;
  };
  /** The window of the latest published checkpoint (validators that publish outer steps). */
  readonly checkpoint_window?: number;
}

/** A checkpoint as the miner trains from it. */
export interface BaseCheckpoint {
  /** The window whose θ it is. */
  readonly window: number;
  readonly params: Float32Array;
}

/** How long one read may take before it counts as failed (and may be retried). */
const READ_TIMEOUT_MS = 30_000;

export class MinerApi {
  readonly api: ValidatorApi;
  #checkpoint: { etag: string; base: BaseCheckpoint } | undefined;

  constructor(url: string) {
    this.api = new ValidatorApi(url, "");
  }

  get url(): string {
    return this.api.url;
  }

  /** The validator's hparams profile. */
  hparams(): Promise<Hparams> {
    return this.api.hparams();
  }

  /** The model manifest the validator serves. */
  manifest(): Promise<ModelManifest> {
    return this.api.json<ModelManifest>("/v1/model/manifest");
  }

  /** A public JSON document; undefined for a 404 when `missing` allows it. */
  #get<T>(path: string, retry: CallRetry, missing = false): Promise<T | undefined> {
    return withRetry(async () => {
      const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
      if (missing && res.status === 404) return undefined;
      if (!res.ok) throw await answerError(res, `GET ${path}`);
      return (await res.json()) as T;
    }, retry);
  }

  /** The chain head's window and the put windows around it. */
  async current(retry: CallRetry = {}): Promise<CurrentWindowJson> {
    return (await this.#get<CurrentWindowJson>("/v1/windows/current", retry)) as CurrentWindowJson;
  }

  /** θ for window `window`: the latest checkpoint published at or before it (parsed once per ETag). */
  async checkpoint(window: number, manifest: ModelManifest): Promise<BaseCheckpoint> {
    const { bytes, etag, headers } = await this.api.download(`/v1/checkpoints/${window}`);
    if (this.#checkpoint && etag && this.#checkpoint.etag === etag) return this.#checkpoint.base;
    const { params, metadata } = readCheckpoint(bytes, manifest);
    const header = headers.get("X-Templar-Checkpoint-Window");
    const base = { window: header === null ? metadata.window : Number(header), params };
    this.#checkpoint = { etag, base };
    return base;
  }

  /** The dense aggregate of window `window`'s outer step, or undefined if none was published. */
  async aggregate(window: number, manifest: ModelManifest): Promise<Float32Array | undefined> {
    try {
      const { bytes } = await this.api.download(`/v1/aggregates/${window}`);
      return readCheckpoint(bytes, manifest, AGGREGATE_FORMAT).params;
    } catch (e) {
      if (e instanceof EdgeError && e.code === "NOT_FOUND") return undefined;
      throw e;
    }
  }

  /** What the validator knows of a window (its state is `put_closed` until copy detection has run). */
  async window(window: number, retry: CallRetry = {}): Promise<WindowReportJson> {
    return (await this.#get<WindowReportJson>(`/v1/windows/${window}`, retry)) as WindowReportJson;
  }

  /** The submission of (window, uid), or undefined before there is one. */
  async submission(window: number, uid: number, retry: CallRetry = {}): Promise<SubmissionJson | undefined> {
    return (await this.#get<{ submission: SubmissionJson }>(`/v1/submissions/${window}/${uid}`, retry, true))
      ?.submission;
  }
}
