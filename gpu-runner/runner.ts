/**
 * The runner's loop: lease a batch, keep the lease alive with heartbeats, evaluate it (or apply
 * a window's outer step), post the results; poll when there is nothing to do. A graceful stop returns the current lease after the
 * submission in progress; a batch the runner cannot finish is given back with its error.
 */
import { EdgeError } from "../schema/errors.ts";
import { type Evaluation, Evaluator, Interrupted } from "./evaluator.ts";
import type { Device } from "./model/loss-session.ts";
import { runOuterStep } from "./outer-step.ts";
import type { RunnerLog } from "./runner-log.ts";
import { type AdvanceOrder, ValidatorApi, type WorkOrder } from "./validator-api.ts";

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
  #stopping = false;
  /** Batches whose results were recorded. */
  completed = 0;

  constructor(opts: RunnerOptions) {
    this.#opts = opts;
  }

  /** Asks the loop to stop: the current lease is returned after the submission in progress. */
  stop(): void {
    this.#stopping = true;
  }

  async #evaluate(api: ValidatorApi, evaluator: Evaluator, order: WorkOrder): Promise<void> {
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
      () => this.#stopping,
    );
    const posted = await api.postResults(id, results);
    log(
      "lease.results_posted",
      `lease ${id}: results ${posted.duplicate ? "were already recorded" : `recorded (${posted.recorded})`}`,
      { ...lease, recorded: posted.recorded, duplicate: posted.duplicate },
    );
  }

  async #advance(api: ValidatorApi, evaluator: Evaluator, order: AdvanceOrder): Promise<void> {
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
    const posted = await api.postAdvance(id, r);
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

  async run(): Promise<void> {
    const { log } = this.#opts;
    const api = new ValidatorApi(this.#opts.url, this.#opts.token);
    const evaluator = await Evaluator.open(api, this.#opts.device);
    log(
      "runner.started",
      `runner: ${evaluator.manifest.model} on ${this.#opts.device}, validator ${api.url} (profile ${evaluator.hparams.profile})`,
      { model: evaluator.manifest.model, device: this.#opts.device, url: api.url, profile: evaluator.hparams.profile },
    );
    try {
      while (!this.#stopping) {
        const order = await api.lease();
        if (!order) {
          if (this.#opts.once) break;
          await new Promise((r) => setTimeout(r, this.#opts.pollSeconds * 1000));
          continue;
        }
        const { id } = order.lease;
        const beat = setInterval(
          () =>
            void api
              .heartbeat(id)
              .catch((e) =>
                log(
                  "lease.heartbeat_failed",
                  `lease ${id}: heartbeat failed: ${(e as Error).message}`,
                  { lease_id: id },
                  "warn",
                ),
              ),
          (evaluator.hparams.evaluation.lease_seconds * 1000) / 3,
        );
        try {
          if (order.kind === "advance") await this.#advance(api, evaluator, order);
          else await this.#evaluate(api, evaluator, order);
          this.completed++;
        } catch (e) {
          if (e instanceof Interrupted) {
            await api.release(id);
            log("lease.returned", `lease ${id}: returned (stopping)`, { lease_id: id, window: order.lease.window });
          } else {
            const error =
              e instanceof EdgeError ? { code: e.code, message: e.message } : { code: "INTERNAL", message: String(e) };
            log(
              "lease.failed",
              `lease ${id}: failed: ${error.message}`,
              { lease_id: id, window: order.lease.window, code: error.code },
              "error",
            );
            await api.release(id, error).catch(() => {});
          }
        } finally {
          clearInterval(beat);
        }
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
