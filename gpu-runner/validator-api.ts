/**
 * The runner's side of the Worker's HTTP API: the runner routes (bearer token) and downloads
 * through an ETag cache, so a checkpoint or data shard is fetched once however many windows and
 * batches use it.
 *
 * Every request has a deadline and is retried with backoff while its failure is transient
 * (schema/api/retry.ts): by default until the validator answers, or as long as the caller's
 * `untilMs` (e.g. its lease's expiry) or `signal` allow. A 4xx verdict is thrown at once.
 */

import { createHash } from "node:crypto";
import { answerError, isTransient, type RetryOptions, withRetry } from "../schema/api/retry.ts";
import type { AdvanceOrder, AdvanceResult, EvaluationResult, LeaseOrder, WorkOrder } from "../schema/api/runner.ts";
import type { Hparams } from "../schema/hparams.ts";

export type { AdvanceOrder, EvaluationResult, LeaseOrder, WorkOrder };

/** How long one JSON request may take before it counts as a failure to retry. */
const REQUEST_TIMEOUT_MS = 30_000;
/** How long one download or artifact upload may take (a checkpoint can be large). */
const TRANSFER_TIMEOUT_MS = 10 * 60_000;

/** When to stop retrying one call. */
export type CallRetry = Pick<RetryOptions, "untilMs" | "signal" | "maxTries">;

/** Told when the validator stops answering, and when it answers again. */
export interface Reachability {
  unreachable(error: unknown): void;
  back(downMs: number): void;
}

export class ValidatorApi {
  readonly url: string;
  readonly #token: string;
  readonly #cache = new Map<string, { etag: string; bytes: Uint8Array }>();
  readonly #reachability: Reachability | undefined;
  /** Since when the validator has not answered; undefined while it does. */
  #downSinceMs: number | undefined;
  /** Bytes actually transferred by downloads (not served from the cache). */
  downloadedBytes = 0;
  /**
   * How long a call without its own `untilMs` keeps retrying; undefined: until the validator
   * answers. The runner bounds it while it holds a lease, so a download the validator keeps
   * failing ends the work instead of holding the lease by heartbeat forever.
   */
  callBudgetMs: number | undefined;

  constructor(url: string, token: string, reachability?: Reachability) {
    this.url = url.replace(/\/$/, "");
    this.#token = token;
    this.#reachability = reachability;
  }

  /** Runs one call's tries: transient failures are retried, and the validator's ups and downs reported. */
  async #retried<T>(once: () => Promise<T>, retry: CallRetry): Promise<T> {
    const budget = this.callBudgetMs;
    const untilMs = retry.untilMs ?? (budget === undefined ? undefined : Date.now() + budget);
    const result = await withRetry(
      async () => {
        try {
          const value = await once();
          this.#answered();
          return value;
        } catch (e) {
          if (isTransient(e)) {
            if (this.#downSinceMs === undefined) {
              this.#downSinceMs = Date.now();
              this.#reachability?.unreachable(e);
            }
          } else this.#answered();
          throw e;
        }
      },
      { ...retry, untilMs },
    );
    return result;
  }

  #answered(): void {
    if (this.#downSinceMs === undefined) return;
    const downMs = Date.now() - this.#downSinceMs;
    this.#downSinceMs = undefined;
    this.#reachability?.back(downMs);
  }

  /** The bearer header, when there is a token (public downloads need none). */
  #auth(): Record<string, string> {
    return this.#token ? { Authorization: `Bearer ${this.#token}` } : {};
  }

  /** A JSON request and its answer's JSON (null for 204), retried as `retry` allows. */
  #request<T>(path: string, init: RequestInit = {}, retry: CallRetry = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    return this.#retried(async () => {
      const res = await fetch(`${this.url}${path}`, {
        ...init,
        headers: { ...this.#auth(), "Content-Type": "application/json", ...(init.headers ?? {}) },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status >= 400) throw await answerError(res, `${init.method ?? "GET"} ${path}`);
      return (res.status === 204 ? null : await res.json()) as T;
    }, retry);
  }

  /** The validator's hparams profile. */
  hparams(retry: CallRetry = {}): Promise<Hparams> {
    return this.#request<Hparams>("/v1/hparams", {}, retry);
  }

  /** Leases a batch (an evaluation or an outer step); null when there is nothing to do. */
  lease(retry: CallRetry = {}): Promise<LeaseOrder | null> {
    return this.#request<LeaseOrder | null>("/v1/runner/leases", { method: "POST" }, retry);
  }

  /** Uploads an outer step's checkpoint or aggregate under a held lease; returns its SHA-256. */
  async putArtifact(
    leaseId: number,
    name: "checkpoint" | "aggregate",
    bytes: Uint8Array,
    retry: CallRetry = {},
  ): Promise<string> {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    await this.#request(
      `/v1/runner/leases/${leaseId}/artifacts/${name}`,
      {
        method: "PUT",
        body: bytes,
        headers: { "Content-Type": "application/octet-stream", "X-Templar-Sha256": sha256 },
      },
      retry,
      TRANSFER_TIMEOUT_MS,
    );
    return sha256;
  }

  /** Posts an outer step's result. */
  postAdvance(
    leaseId: number,
    result: AdvanceResult,
    retry: CallRetry = {},
  ): Promise<{ window: number; duplicate: boolean }> {
    return this.#request(
      `/v1/runner/leases/${leaseId}/results`,
      { method: "POST", body: JSON.stringify(result) },
      retry,
    );
  }

  /** Beats for a held lease; returns its new expiry. */
  async heartbeat(leaseId: number, retry: CallRetry = {}): Promise<number> {
    const beat = await this.#request<{ expires_at_ms: number }>(
      `/v1/runner/leases/${leaseId}/heartbeat`,
      { method: "POST" },
      retry,
    );
    return beat.expires_at_ms;
  }

  /** Gives a lease back, with the error that stopped its work if there was one. */
  async release(leaseId: number, error?: { code: string; message: string }, retry: CallRetry = {}): Promise<void> {
    await this.#request(
      `/v1/runner/leases/${leaseId}/release`,
      { method: "POST", body: JSON.stringify(error ? { error } : {}) },
      retry,
    );
  }

  /** Posts an evaluation batch's results. */
  postResults(
    leaseId: number,
    evaluations: readonly EvaluationResult[],
    retry: CallRetry = {},
  ): Promise<{ recorded: number; duplicate: boolean }> {
    return this.#request(
      `/v1/runner/leases/${leaseId}/results`,
      { method: "POST", body: JSON.stringify({ evaluations }) },
      retry,
    );
  }

  /** GET through the ETag cache; `fresh` true if the bytes were transferred this time. */
  download(
    path: string,
    retry: CallRetry = {},
  ): Promise<{ bytes: Uint8Array; etag: string; fresh: boolean; headers: Headers }> {
    return this.#retried(async () => {
      const cached = this.#cache.get(path);
      const res = await fetch(`${this.url}${path}`, {
        headers: { ...this.#auth(), ...(cached ? { "If-None-Match": cached.etag } : {}) },
        signal: AbortSignal.timeout(TRANSFER_TIMEOUT_MS),
      });
      if (res.status === 304 && cached) return { ...cached, fresh: false, headers: res.headers };
      if (!res.ok) throw await answerError(res, `GET ${path}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const etag = res.headers.get("ETag") ?? "";
      if (etag) this.#cache.set(path, { etag, bytes });
      this.downloadedBytes += bytes.length;
      return { bytes, etag, fresh: true, headers: res.headers };
    }, retry);
  }

  /** A JSON document through the ETag cache. */
  async json<T>(path: string, retry: CallRetry = {}): Promise<T> {
    return JSON.parse(new TextDecoder().decode((await this.download(path, retry)).bytes)) as T;
  }
}
