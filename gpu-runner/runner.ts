/**
 * The runner's loop: lease a batch, keep the lease alive with heartbeats, evaluate it (or apply
 * a window's outer step), post the results; poll when there is nothing to do. A graceful stop returns the current lease after the
 * submission in progress; a batch the runner cannot finish is given back with its error.
 */
import { EdgeError } from "../schema/errors.ts";
import { type Evaluation, Evaluator, Interrupted } from "./evaluator.ts";
import type { Device } from "./model/loss-session.ts";
import { runOuterStep } from "./outer-step.ts";
import { type AdvanceOrder, ValidatorApi, type WorkOrder } from "./validator-api.ts";

export interface RunnerOptions {
  readonly url: string;
  readonly token: string;
  readonly device: Device;
  /** Exit once no batch is pending instead of polling. */
  readonly once: boolean;
  readonly pollSeconds: number;
  readonly log: (line: string) => void;
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
    log(
      `lease ${id}: window ${window}, ${order.submissions.length} submission(s), base checkpoint of window ${order.checkpoint.window}`,
    );
    const uids = new Map(order.submissions.map((s) => [s.submission_id, s.uid]));
    const results = await evaluator.evaluate(
      order,
      (done, total, e) => log(`lease ${id}: ${done}/${total} ${describe(e, uids.get(e.submission_id) as number)}`),
      () => this.#stopping,
    );
    const posted = await api.postResults(id, results);
    log(`lease ${id}: results ${posted.duplicate ? "were already recorded" : `recorded (${posted.recorded})`}`);
  }

  async #advance(api: ValidatorApi, evaluator: Evaluator, order: AdvanceOrder): Promise<void> {
    const { log } = this.#opts;
    const { id, window } = order.lease;
    log(
      `lease ${id}: outer step of window ${window} (${order.peer_mode} peers: ${order.peers.map((p) => p.uid).join(", ") || "none"})`,
    );
    const { hparams, manifest, session, data } = evaluator;
    const r = await runOuterStep({ api, hparams, manifest, session, data }, order);
    const bpb = (loss: number) => (loss / Math.LN2).toFixed(4);
    const posted = await api.postAdvance(id, r);
    log(
      `lease ${id}: θ_${order.next_window} ${r.applied_uids.length ? `from uids ${r.applied_uids.join(", ")}` : "= θ_" + window + " (no peer applied)"}; ` +
        `held-out ${bpb(r.heldout_loss_before)} → ${bpb(r.heldout_loss_after)} bits/byte` +
        `${posted.duplicate ? " (already recorded)" : ""}`,
    );
  }

  async run(): Promise<void> {
    const { log } = this.#opts;
    const api = new ValidatorApi(this.#opts.url, this.#opts.token);
    const evaluator = await Evaluator.open(api, this.#opts.device);
    log(
      `runner: ${evaluator.manifest.model} on ${this.#opts.device}, validator ${api.url} (profile ${evaluator.hparams.profile})`,
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
          () => void api.heartbeat(id).catch((e) => log(`lease ${id}: heartbeat failed: ${(e as Error).message}`)),
          (evaluator.hparams.evaluation.lease_seconds * 1000) / 3,
        );
        try {
          if (order.kind === "advance") await this.#advance(api, evaluator, order);
          else await this.#evaluate(api, evaluator, order);
          this.completed++;
        } catch (e) {
          if (e instanceof Interrupted) {
            await api.release(id);
            log(`lease ${id}: returned (stopping)`);
          } else {
            const error =
              e instanceof EdgeError ? { code: e.code, message: e.message } : { code: "INTERNAL", message: String(e) };
            log(`lease ${id}: failed: ${error.message}`);
            await api.release(id, error).catch(() => {});
          }
        } finally {
          clearInterval(beat);
        }
      }
    } finally {
      await evaluator.close();
      log(`runner: stopped after ${this.completed} batch(es), ${(api.downloadedBytes / 1e6).toFixed(1)} MB downloaded`);
    }
  }
}
