/**
 * A lease's heartbeats: the first right after the grant, before any work, then one every
 * `heartbeat_seconds` until the work ends. The validator lets a lease live
 * `missed_heartbeats × heartbeat_seconds` from its last beat, so a runner that dies loses its
 * batch within that time, and one that lives keeps it however long the work takes.
 *
 * A beat that fails transiently is retried until the lease would expire; a LEASE_NOT_HELD answer
 * means the lease is gone (it expired during an outage, or was revoked): `lost` says so, and the
 * runner drops the work.
 */
import { sleep } from "../schema/api/retry.ts";
import { EdgeError } from "../schema/errors.ts";
import type { RunnerLog } from "./runner-log.ts";
import type { ValidatorApi } from "./validator-api.ts";

export class LeaseHeartbeat {
  readonly #api: ValidatorApi;
  readonly #leaseId: number;
  readonly #everyMs: number;
  readonly #log: RunnerLog;
  readonly #stop = new AbortController();
  #loop: Promise<void> = Promise.resolve();
  /** The lease's expiry as the validator last reported it. */
  expiresAtMs: number;
  /** Set once the validator answers that the lease is no longer held. */
  lost: EdgeError | undefined;

  private constructor(api: ValidatorApi, leaseId: number, expiresAtMs: number, everyMs: number, log: RunnerLog) {
    this.#api = api;
    this.#leaseId = leaseId;
    this.expiresAtMs = expiresAtMs;
    this.#everyMs = everyMs;
    this.#log = log;
  }

  /** Beats for a just-granted lease at once, then every `everyMs` until `stop`. */
  static async start(
    api: ValidatorApi,
    lease: { readonly id: number; readonly expires_at_ms: number },
    everyMs: number,
    log: RunnerLog,
  ): Promise<LeaseHeartbeat> {
    const heartbeat = new LeaseHeartbeat(api, lease.id, lease.expires_at_ms, everyMs, log);
    await heartbeat.#beat();
    heartbeat.#loop = heartbeat.#run();
    return heartbeat;
  }

  /** Stops beating (the work ended); waits for a beat in flight. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { signal } = this.#stop;
    while (!signal.aborted && !this.lost) {
      await sleep(this.#everyMs, signal);
      if (!signal.aborted) await this.#beat();
    }
  }

  async #beat(): Promise<void> {
    const leaseId = this.#leaseId;
    try {
      this.expiresAtMs = await this.#api.heartbeat(leaseId, { untilMs: this.expiresAtMs, signal: this.#stop.signal });
      this.#log("lease.heartbeat", `lease ${leaseId}: heartbeat, expires in ${this.expiresAtMs - Date.now()} ms`, {
        lease_id: leaseId,
        expires_at_ms: this.expiresAtMs,
      });
    } catch (e) {
      if (e instanceof EdgeError && e.code === "LEASE_NOT_HELD") {
        this.lost = e;
        this.#log("lease.lost", `lease ${leaseId}: lost (${e.message}); its work is dropped`, {
          lease_id: leaseId,
          code: e.code,
        });
        return;
      }
      if (this.#stop.signal.aborted) return;
      this.#log(
        "lease.heartbeat_failed",
        `lease ${leaseId}: heartbeat failed: ${(e as Error).message}`,
        { lease_id: leaseId },
        "warn",
      );
    }
  }
}
