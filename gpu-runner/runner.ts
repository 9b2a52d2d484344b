/**
 * The runner's loop: lease a batch, keep the lease alive with heartbeats, evaluate it (or apply
 * a window's outer step), post the results; poll when there is nothing to do. A graceful stop returns the current lease after the
 * submission in progress; a batch the runner cannot finish is given back with its error.
 *
 * The runner outlives the validator's faults: every request is retried while its failure is
 * transient (validator-api.ts), the loop's polls forever, a lease's posts until the lease would
 * expire. A lease the validator says is lost is dropped, and the loop goes on.
 */
import { isTransient, sleep } from "../schema/api/retry.ts";
import { EdgeError } from "../schema/errors.ts";
import { leaseLifeMs } from "../schema/hparams.ts";
import { type Evaluation, Evaluator, Interrupted } from "./evaluator.ts";
import { LeaseHeartbeat } from "./lease-heartbeat.ts";
import type { Device } from "./model/loss-session.ts";
import { runOuterStep } from "./outer-step.ts";
import type { RunnerLog } from "./runner-log.ts";
import { type AdvanceOrder, type LeaseOrder, ValidatorApi, type WorkOrder } from "./validator-api.ts";

export interface RunnerOptions {
  readonly url: string;
  readonly token: string;
  readonly device: Device;
  /** Exit once no batch is pending instead of polling. */
  readonly once: boolean;
  readonly pollSeconds: number;
  /** Where lease, window and uid events go (runner-log.ts). */
  readonly log: RunnerLog;
}

const fmt = (x: number | undefined, digits = 4) => (x === undefined ? "—" : x.toFixed(digits));

/** One progress line per evaluated submission. */
function describe(e: Evaluation, uid: number): string {
  if (e.error) return `uid ${uid}: ${e.error.code} (${e.error.message})`;
  const own = (e.loss_before_own as number) - (e.loss_after_own as number);
  const rnd = (e.loss_before_random as number) - (e.loss_after_random as number);
  return (
    `uid ${uid}: loss own ${fmt(e.loss_before_own)} → ${fmt(e.loss_after_own)} (Δ ${fmt(own, 5)}), ` +
    `random → ${fmt(e.loss_after_random)} (Δ ${fmt(rnd, 5)}); decode ${fmt(e.decode_ms, 1)} ms, ` +
    `apply ${fmt(e.apply_ms, 1)} ms, forward ${fmt(e.forward_ms, 1)} ms, restore ${fmt(e.restore_ms, 2)} ms`
  );
}

export class Runner {
  readonly #opts: RunnerOptions;
  readonly #stop = new AbortController();
  /** Batches whose results were recorded. */
  completed = 0;

  constructor(opts: RunnerOptions) {
    this.#opts = opts;
  }

  /** Asks the loop to stop: the current lease is returned after the submission in progress. */
  stop(): void {
    this.#stop.abort();
  }

  get #stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  async #evaluate(api: ValidatorApi, evaluator: Evaluator, order: WorkOrder, beat: LeaseHeartbeat): Promise<void> {
    const { log } = this.#opts;
    const { id, window } = order.lease;
    const lease = { lease_id: id, window, kind: "evaluate" as const };
    log(
      "lease.started",
      `lease ${id}: window ${window}, ${order.submissions.length} submission(s), base checkpoint of window ${order.checkpoint.window}`,
      { ...lease, submissions: order.submissions.length, checkpoint_window: order.checkpoint.window },
    );
    const uids = new Map(order.submissions.map((s) => [s.submission_id, s.uid]));
    const results = await evaluator.evaluate(
      order,
      (done, total, e) => {
        const uid = uids.get(e.submission_id) as number;
        log("submission.evaluated", `lease ${id}: ${done}/${total} ${describe(e, uid)}`, {
          ...lease,
          uid,
          submission_id: e.submission_id,
          code: e.error?.code,
          total_ms: e.total_ms,
        });
      },
      () => this.#stopping || beat.lost !== undefined,
    );
    const posted = await api.postResults(id, results, { untilMs: beat.expiresAtMs });
    log(
      "lease.results_posted",
      `lease ${id}: results ${posted.duplicate ? "were already recorded" : `recorded (${posted.recorded})`}`,
      { ...lease, recorded: posted.recorded, duplicate: posted.duplicate },
    );
  }

  async #advance(api: ValidatorApi, evaluator: Evaluator, order: AdvanceOrder, beat: LeaseHeartbeat): Promise<void> {
    const { log } = this.#opts;
    const { id, window } = order.lease;
    const lease = { lease_id: id, window, kind: "advance" as const };
    log(
      "lease.started",
      `lease ${id}: outer step of window ${window} (${order.peer_mode} peers: ${order.peers.map((p) => p.uid).join(", ") || "none"})`,
      { ...lease, peer_mode: order.peer_mode, peers: order.peers.map((p) => p.uid) },
    );
    const { hparams, manifest, session, data } = evaluator;
    const r = await runOuterStep({ api, hparams, manifest, session, data }, order);
    const bpb = (loss: number) => (loss / Math.LN2).toFixed(4);
    const posted = await api.postAdvance(id, r, { untilMs: beat.expiresAtMs });
    log(
      "outer_step.posted",
      `lease ${id}: θ_${order.next_window} ${r.applied_uids.length ? `from uids ${r.applied_uids.join(", ")}` : `= θ_${window} (no peer applied)`}; ` +
        `held-out ${bpb(r.heldout_loss_before)} → ${bpb(r.heldout_loss_after)} bits/byte` +
        `${posted.duplicate ? " (already recorded)" : ""}`,
      {
        ...lease,
        applied_uids: r.applied_uids,
        heldout_bpb_before: r.heldout_loss_before / Math.LN2,
        heldout_bpb_after: r.heldout_loss_after / Math.LN2,
        duplicate: posted.duplicate,
      },
    );
  }

  /** Polls for a lease until one is granted, or null once stopping (or, with `once`, when none is pending). */
  async #nextLease(api: ValidatorApi, pollMs: number): Promise<LeaseOrder | null> {
    const { signal } = this.#stop;
    while (!signal.aborted) {
      try {
        const order = await api.lease({ signal });
        if (order || this.#opts.once) return order;
      } catch (e) {
        if (!isTransient(e)) throw e;
        continue; // stopping while the validator was unreachable
      }
      await sleep(pollMs, signal);
    }
    return null;
  }

  /** Does one lease's work; every way it can end is logged, and none but a bug throws. */
  async #work(api: ValidatorApi, evaluator: Evaluator, order: LeaseOrder): Promise<void> {
    const { log } = this.#opts;
    const { id, window } = order.lease;
    const { heartbeat_seconds } = evaluator.hparams.evaluation;
    const lease = { lease_id: id, window, kind: order.kind };
    const beat = await LeaseHeartbeat.start(api, order.lease, heartbeat_seconds * 1000, log);
    // A call that keeps failing for longer than the lease can live ends the work.
    api.callBudgetMs = 2 * leaseLifeMs(evaluator.hparams.evaluation);
    try {
      if (beat.lost) return;
      if (order.kind === "advance") await this.#advance(api, evaluator, order, beat);
      else await this.#evaluate(api, evaluator, order, beat);
      this.completed++;
    } catch (e) {
      const lost = beat.lost ?? (e instanceof EdgeError && e.code === "LEASE_NOT_HELD" ? e : undefined);
      if (lost) {
        log(
          "lease.dropped",
          `lease ${id}: dropped, the validator no longer holds it for this runner`,
          {
            ...lease,
            code: "LEASE_NOT_HELD",
          },
          "warn",
        );
      } else if (e instanceof Interrupted) {
        await api
          .release(id, undefined, { untilMs: beat.expiresAtMs })
          .then(() => log("lease.returned", `lease ${id}: returned (stopping)`, lease))
          .catch((err) =>
            log("lease.return_failed", `lease ${id}: not returned: ${(err as Error).message}`, lease, "warn"),
          );
      } else if (isTransient(e)) {
        // The validator was unreachable past the lease's life: it will expire and go to another runner.
        log(
          "lease.abandoned",
          `lease ${id}: abandoned, the validator did not answer: ${(e as Error).message}`,
          lease,
          "warn",
        );
      } else {
        const error =
          e instanceof EdgeError ? { code: e.code, message: e.message } : { code: "INTERNAL", message: String(e) };
        log("lease.failed", `lease ${id}: failed: ${error.message}`, { ...lease, code: error.code }, "error");
        await api.release(id, error, { untilMs: beat.expiresAtMs }).catch(() => {});
      }
    } finally {
      api.callBudgetMs = undefined;
      await beat.stop();
    }
  }

  async run(): Promise<void> {
    const { log } = this.#opts;
    const api = new ValidatorApi(this.#opts.url, this.#opts.token, {
      unreachable: (e) =>
        log(
          "validator.unreachable",
          `validator ${this.#opts.url} unreachable (${(e as Error).message}); retrying`,
          { url: this.#opts.url },
          "warn",
        ),
      back: (downMs) =>
        log("validator.back", `validator ${this.#opts.url} back after ${(downMs / 1000).toFixed(1)} s`, {
          url: this.#opts.url,
          down_ms: downMs,
        }),
    });
    const evaluator = await Evaluator.open(api, this.#opts.device);
    log(
      "runner.started",
      `runner: ${evaluator.manifest.model} on ${this.#opts.device}, validator ${api.url} (profile ${evaluator.hparams.profile})`,
      { model: evaluator.manifest.model, device: this.#opts.device, url: api.url, profile: evaluator.hparams.profile },
    );
    // Polls at least once a heartbeat interval, so an idle runner shows alive in /v1/status.
    const pollMs = Math.min(this.#opts.pollSeconds, evaluator.hparams.evaluation.heartbeat_seconds) * 1000;
    try {
      for (;;) {
        const order = await this.#nextLease(api, pollMs);
        if (!order) break;
        await this.#work(api, evaluator, order);
      }
    } finally {
      await evaluator.close();
      log(
        "runner.stopped",
        `runner: stopped after ${this.completed} batch(es), ${(api.downloadedBytes / 1e6).toFixed(1)} MB downloaded`,
        { batches: this.completed, downloaded_bytes: api.downloadedBytes },
      );
    }
  }
}
