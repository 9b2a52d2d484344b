/**
 * The runner's side of the Worker's HTTP API: the runner routes (bearer token) and downloads
 * through an ETag cache, so a checkpoint or data shard is fetched once however many windows and
 * batches use it.
 */

import { createHash } from "node:crypto";
import type { AdvanceOrder, AdvanceResult, EvaluationResult, LeaseOrder, WorkOrder } from "../schema/api/runner.ts";
import { EdgeError, isErrorCode } from "../schema/errors.ts";
import type { Hparams } from "../schema/hparams.ts";

export type { AdvanceOrder, EvaluationResult, LeaseOrder, WorkOrder };

export class ValidatorApi {
  readonly url: string;
  readonly #token: string;
  readonly #cache = new Map<string, { etag: string; bytes: Uint8Array }>();
  /** Bytes actually transferred by downloads (not served from the cache). */
  downloadedBytes = 0;

  constructor(url: string, token: string) {
    this.url = url.replace(/\/$/, "");
    this.#token = token;
  }

  /** The bearer header, when there is a token (public downloads need none). */
  #auth(): Record<string, string> {
    return this.#token ? { Authorization: `Bearer ${this.#token}` } : {};
  }

  async #request(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(`${this.url}${path}`, {
      ...init,
      headers: { ...this.#auth(), "Content-Type": "application/json", ...(init.headers ?? {}) },
    });
    if (res.status >= 400) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      const code = body.error?.code ?? "INTERNAL";
      throw new EdgeError(
        isErrorCode(code) ? code : "INTERNAL",
        `${init.method ?? "GET"} ${path}: ${res.status} ${body.error?.message ?? ""}`,
      );
    }
    return res;
  }

  /** The validator's hparams profile. */
  async hparams(): Promise<Hparams> {
    return (await (await this.#request("/v1/hparams")).json()) as Hparams;
  }

  /** Leases a batch (an evaluation or an outer step); null when there is nothing to do. */
  async lease(): Promise<LeaseOrder | null> {
    const res = await this.#request("/v1/runner/leases", { method: "POST" });
    return res.status === 204 ? null : ((await res.json()) as LeaseOrder);
  }

  /** Uploads an outer step's checkpoint or aggregate under a held lease; returns its SHA-256. */
  async putArtifact(leaseId: number, name: "checkpoint" | "aggregate", bytes: Uint8Array): Promise<string> {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    await this.#request(`/v1/runner/leases/${leaseId}/artifacts/${name}`, {
      method: "PUT",
      body: bytes,
      headers: { "Content-Type": "application/octet-stream", "X-Templar-Sha256": sha256 },
    });
    return sha256;
  }

  /** Posts an outer step's result. */
  async postAdvance(leaseId: number, result: AdvanceResult): Promise<{ window: number; duplicate: boolean }> {
    const res = await this.#request(`/v1/runner/leases/${leaseId}/results`, {
      method: "POST",
      body: JSON.stringify(result),
    });
    return (await res.json()) as { window: number; duplicate: boolean };
  }

  async heartbeat(leaseId: number): Promise<number> {
    const res = await this.#request(`/v1/runner/leases/${leaseId}/heartbeat`, { method: "POST" });
    return ((await res.json()) as { expires_at_ms: number }).expires_at_ms;
  }

  async release(leaseId: number, error?: { code: string; message: string }): Promise<void> {
    await this.#request(`/v1/runner/leases/${leaseId}/release`, {
      method: "POST",
      body: JSON.stringify(error ? { error } : {}),
    });
  }

  async postResults(
    leaseId: number,
    evaluations: readonly EvaluationResult[],
  ): Promise<{ recorded: number; duplicate: boolean }> {
    const res = await this.#request(`/v1/runner/leases/${leaseId}/results`, {
      method: "POST",
      body: JSON.stringify({ evaluations }),
    });
    return (await res.json()) as { recorded: number; duplicate: boolean };
  }

  /** GET through the ETag cache; `fresh` true if the bytes were transferred this time. */
  async download(path: string): Promise<{ bytes: Uint8Array; etag: string; fresh: boolean; headers: Headers }> {
    const cached = this.#cache.get(path);
    const res = await fetch(`${this.url}${path}`, {
      headers: { ...this.#auth(), ...(cached ? { "If-None-Match": cached.etag } : {}) },
    });
    if (res.status === 304 && cached) return { ...cached, fresh: false, headers: res.headers };
    if (!res.ok)
      throw new EdgeError(
        res.status === 404 ? "NOT_FOUND" : "INTERNAL",
        `GET ${path}: ${res.status} ${await res.text()}`,
      );
    const bytes = new Uint8Array(await res.arrayBuffer());
    const etag = res.headers.get("ETag") ?? "";
    if (etag) this.#cache.set(path, { etag, bytes });
    this.downloadedBytes += bytes.length;
    return { bytes, etag, fresh: true, headers: res.headers };
  }

  /** A JSON document through the ETag cache. */
  async json<T>(path: string): Promise<T> {
    return JSON.parse(new TextDecoder().decode((await this.download(path)).bytes)) as T;
  }
}
