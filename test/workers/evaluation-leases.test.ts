// Evaluation dispatch, leases and results through the runner API in workerd (real D1). Each test
// seeds its own validated windows and runners; leases expire by moving the app's clock past
// the lease's life (missed_heartbeats × heartbeat_seconds), as the Worker sees time, not by editing rows.
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import type { WorkOrder } from "../../schema/api/runner.ts";
import { evaluationBatches, evaluations, runners, submissions, windows } from "../../schema/db/index.ts";
import { getHparams } from "../../schema/hparams.ts";
import { minerPool } from "../../schema/sampling/assignment.ts";
import { dataArtifacts } from "../../scripts/artifacts/data-artifacts.ts";
import { workerContext } from "../../workers/context.ts";
import { dispatchValidatedWindows } from "../../workers/evaluation/dispatch.ts";
import { tokenHash } from "../../workers/runners/runner-auth.ts";
import type { RunnerStatus } from "../../workers/status/runner-status.ts";
import { rng } from "../shared/fixtures/gradients.ts";
import { chainAtPutWindow, db, type TestClock, testApp, testClock } from "./support/world.ts";

const hparams = getHparams("local");
/** How long a lease lasts after its grant or its last heartbeat. */
const LEASE_MS = hparams.evaluation.missed_heartbeats * hparams.evaluation.heartbeat_seconds * 1000;
/** Real time the steps of a test may take between two moves of the clock. */
const SLACK_MS = LEASE_MS / 4;
const SEED = `0x${"42".repeat(32)}`;
const corpus = new Uint8Array(200_000).map(() => Math.floor(rng(1)() * 256));
const DATA = [...dataArtifacts(corpus, "synthetic.txt", hparams)];
const trainSamples = Math.floor((Math.floor(corpus.length * 0.9) - 1) / hparams.model.seq_len);

const chain = chainAtPutWindow(900);
let clock: TestClock;
let app: ReturnType<typeof testApp>;
const ctx = () => workerContext(env, () => chain, clock.now);

/** Dispatches validated windows into evaluation batches (outer steps come once a window is evaluated: model-advance.test.ts). */
const dispatch = () => dispatchValidatedWindows(ctx());

async function seedWindow(window: number, uids: number[]): Promise<void> {
  const now = clock.now();
  await db
    .insert(windows)
    .values({ window, startBlock: 0, endBlock: 0, seedBlockHash: SEED, state: "validated", updatedAtMs: now });
  for (const uid of uids) {
    await db.insert(submissions).values({
      window,
      uid,
      hotkey: `hk-${uid}`,
      objectKey: `gradients/2/${window}/${uid}.safetensors`,
      sizeBytes: 100,
      sha256: "00".repeat(32),
      receivedAtMs: now,
      signature: `sig-${window}-${uid}`,
      status: "valid",
    });
  }
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const post = (path: string, token: string, body?: unknown) =>
  app.call(path, {
    method: "POST",
    headers: { ...bearer(token), "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const lease = async (token: string) => (await (await post("/v1/runner/leases", token)).json()) as WorkOrder;

function losses(order: WorkOrder) {
  return {
    evaluations: order.submissions.map((s) => ({
      submission_id: s.submission_id,
      loss_before_own: 5.5,
      loss_after_own: 5.4,
      loss_before_random: 5.6,
      loss_after_random: 5.55,
      decode_ms: 1,
      apply_ms: 1,
      forward_ms: 30,
      restore_ms: 0.1,
      total_ms: 33,
    })),
  };
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

/** Window 800 with six valid submissions, dispatched as two batches: r1 leases the first (uids 10–13), r2 the second (14, 15). */
async function leasedToBoth(): Promise<{ first: WorkOrder; second: WorkOrder }> {
  await seedWindow(800, [10, 11, 12, 13, 14, 15]);
  await dispatch();
  return { first: await lease("token-r1"), second: await lease("token-r2") };
}

const batchOf = (window: number) =>
  db
    .select()
    .from(evaluationBatches)
    .where(and(eq(evaluationBatches.window, window), eq(evaluationBatches.kind, "evaluate")))
    .get();
const windowState = async (window: number) =>
  (await db.select().from(windows).where(eq(windows.window, window)).get())?.state;

beforeEach(async () => {
  clock = testClock();
  app = testApp(chain, clock);
  for (const [key, bytes] of DATA) await env.ARTIFACTS.put(key, bytes);
  for (const id of ["r1", "r2"])
    await db.insert(runners).values({ id, tokenHash: await tokenHash(`token-${id}`), createdAtMs: clock.now() });
});

describe("dispatch", () => {
  it("cuts a validated window into batches and moves it to evaluating", async () => {
    await seedWindow(800, [10, 11, 12, 13, 14, 15]);
    expect(await dispatch()).toEqual([{ window: 800, batches: 2 }]);
    expect(await windowState(800)).toBe("evaluating");
  });
});

describe("leases", () => {
  it("leases one batch per runner, in order, and nothing once every batch is leased", async () => {
    await seedWindow(800, [10, 11, 12, 13, 14, 15]);
    await dispatch();
    const first = await post("/v1/runner/leases", "token-r1");
    expect(first.status).toBe(200);
    const order = (await first.json()) as WorkOrder;
    expect([order.kind, order.lease.window]).toEqual(["evaluate", 800]);
    expect(order.submissions.map((s) => s.uid)).toEqual([10, 11, 12, 13]);
    const second = await lease("token-r2");
    expect(second.submissions.map((s) => s.uid)).toEqual([14, 15]);
    expect((await post("/v1/runner/leases", "token-r2")).status).toBe(204);
  });

  it("hands out a work order with the eval learning rate, θ_S, the random draw and each miner's own samples", async () => {
    const { first: order } = await leasedToBoth();
    expect(order.eval_lr).toBeCloseTo(hparams.training.outer_learning_rate * hparams.evaluation.eval_lr_factor, 12);
    expect(order.checkpoint).toEqual({ window: 0, url: "/v1/checkpoints/800" });
    expect(order.random.samples).toHaveLength(hparams.evaluation.random_samples);
    const poolSize = hparams.training.inner_steps * hparams.training.batch_size;
    for (const s of order.submissions) {
      const pool = new Set(minerPool(s.uid, 800, trainSamples, poolSize));
      expect(s.own.samples).toHaveLength(hparams.evaluation.own_samples);
      expect(s.own.samples.every((id) => pool.has(id))).toBe(true);
    }
  });

  it("renews a lease on heartbeat: it outlives its first expiry", async () => {
    await seedWindow(800, [10, 11, 12, 13, 14, 15]);
    await dispatch();
    const order = await lease("token-r1");
    clock.advance(LEASE_MS / 2);
    const beat = (await (await post(`/v1/runner/leases/${order.lease.id}/heartbeat`, "token-r1")).json()) as {
      expires_at_ms: number;
    };
    expect(beat.expires_at_ms).toBeGreaterThanOrEqual(order.lease.expires_at_ms);
    expect(beat.expires_at_ms).toBeGreaterThan(order.lease.expires_at_ms);
    // Past the first expiry, within the renewed one: the batch is still r1's, so r2 gets the other.
    clock.advance(LEASE_MS / 2 + 1);
    expect((await lease("token-r2")).submissions.map((s) => s.uid)).toEqual([14, 15]);
    const held = await db.select().from(evaluationBatches).where(eq(evaluationBatches.id, order.lease.batch_id)).get();
    expect(held).toMatchObject({ state: "leased", leaseRunnerId: "r1", leaseId: order.lease.id, attempts: 0 });
  });

  it("refuses a heartbeat from a runner that does not hold the lease (LEASE_NOT_HELD)", async () => {
    const { first: order } = await leasedToBoth();
    const stolen = await post(`/v1/runner/leases/${order.lease.id}/heartbeat`, "token-r2");
    expect([stolen.status, await errorCode(stolen)]).toEqual([409, "LEASE_NOT_HELD"]);
  });

  it("puts an expired lease's batch back: another runner leases it, with LEASE_EXPIRED and one attempt counted", async () => {
    const { first } = await leasedToBoth();
    expect(await (await post(`/v1/runner/leases/${first.lease.id}/results`, "token-r1", losses(first))).json()).toEqual(
      { recorded: 4, duplicate: false },
    );
    clock.advance(LEASE_MS + 1); // r2's lease runs out
    const retaken = await lease("token-r1");
    expect(retaken.submissions.map((s) => s.uid)).toEqual([14, 15]);
    const batch = await db
      .select()
      .from(evaluationBatches)
      .where(eq(evaluationBatches.id, retaken.lease.batch_id))
      .get();
    expect(batch).toMatchObject({ attempts: 1, state: "leased", leaseRunnerId: "r1", lastErrorCode: "LEASE_EXPIRED" });
  });

  it("refuses the late results of an expired lease (LEASE_NOT_HELD), recording nothing", async () => {
    const { first, second } = await leasedToBoth();
    await post(`/v1/runner/leases/${first.lease.id}/results`, "token-r1", losses(first));
    clock.advance(LEASE_MS + 1); // r2's lease runs out…
    await lease("token-r1"); // …and r1 takes its batch
    const late = await post(`/v1/runner/leases/${second.lease.id}/results`, "token-r2", losses(second));
    expect([late.status, await errorCode(late)]).toEqual([409, "LEASE_NOT_HELD"]);
    expect(await db.select().from(evaluations).where(eq(evaluations.window, 800))).toHaveLength(4);
  });

  it("parks a batch whose lease expires max_attempts times", async () => {
    await seedWindow(801, [20]);
    await dispatch();
    for (let attempt = 1; attempt <= hparams.evaluation.max_attempts; attempt++) {
      const order = await lease("token-r1");
      expect(order.lease.window).toBe(801);
      clock.advance(LEASE_MS + 1);
    }
    expect((await post("/v1/runner/leases", "token-r1")).status).toBe(204); // the last expiry parked it
    expect(await batchOf(801)).toMatchObject({
      state: "parked",
      attempts: hparams.evaluation.max_attempts,
      lastErrorCode: "LEASE_EXPIRED",
    });
  });

  it("puts a released batch back as pending without counting an attempt", async () => {
    await seedWindow(802, [30]);
    await dispatch();
    const order = await lease("token-r2");
    const released = await post(`/v1/runner/leases/${order.lease.id}/release`, "token-r2");
    expect(released.status).toBe(200);
    expect(await batchOf(802)).toMatchObject({ state: "pending", attempts: 0, leaseId: null });
  });

  it("counts a release that reports an error as an attempt, with its code", async () => {
    await seedWindow(802, [30]);
    await dispatch();
    const order = await lease("token-r2");
    await post(`/v1/runner/leases/${order.lease.id}/release`, "token-r2", {
      error: { code: "INTERNAL", message: "out of memory" },
    });
    expect(await batchOf(802)).toMatchObject({ state: "pending", attempts: 1, lastErrorCode: "INTERNAL" });
  });

  it("refuses requests without a token (401 UNAUTHORIZED) or with an unknown one", async () => {
    const anonymous = await app.call("/v1/runner/leases", { method: "POST" });
    expect([anonymous.status, await errorCode(anonymous)]).toEqual([401, "UNAUTHORIZED"]);
    const wrong = await post("/v1/runner/leases", "token-nobody");
    expect(wrong.status).toBe(401);
  });
});

describe("heartbeats", () => {
  const beat = async (order: WorkOrder, token = "token-r1") =>
    (await (await post(`/v1/runner/leases/${order.lease.id}/heartbeat`, token)).json()) as { expires_at_ms: number };
  const runnerStatus = async (id: string) =>
    ((await (await app.call("/v1/status")).json()) as { runners: RunnerStatus[] }).runners.find((r) => r.id === id);

  it("expires a lease missed_heartbeats × heartbeat_seconds after its last beat, not before", async () => {
    await seedWindow(803, [40]);
    await dispatch();
    const order = await lease("token-r1");
    clock.advance(LEASE_MS - SLACK_MS);
    expect((await post("/v1/runner/leases", "token-r2")).status).toBe(204); // not yet expired
    const beaten = await beat(order);
    const beatAtMs = beaten.expires_at_ms - LEASE_MS;
    expect(beatAtMs).toBeGreaterThan(order.lease.expires_at_ms - LEASE_MS);
    // Past the grant's expiry but within the beat's: still r1's.
    clock.advance(LEASE_MS - SLACK_MS);
    expect(clock.now()).toBeGreaterThan(order.lease.expires_at_ms);
    expect((await post("/v1/runner/leases", "token-r2")).status).toBe(204);
    // The beats stop: once the last one's life is over, the batch goes to another runner.
    clock.advance(beaten.expires_at_ms + 1 - clock.now());
    const retaken = await lease("token-r2");
    expect(retaken.lease.batch_id).toBe(order.lease.batch_id);
    expect(await batchOf(803)).toMatchObject({ attempts: 1, leaseRunnerId: "r2", lastErrorCode: "LEASE_EXPIRED" });
    const late = await post(`/v1/runner/leases/${order.lease.id}/heartbeat`, "token-r1");
    expect([late.status, await errorCode(late)]).toEqual([409, "LEASE_NOT_HELD"]);
  });

  it("shows a runner alive with its lease's last beat and expiry, then not alive once it stops calling", async () => {
    await seedWindow(803, [40]);
    await dispatch();
    const order = await lease("token-r1");
    expect(await runnerStatus("r1")).toMatchObject({
      alive: true,
      active_leases: [{ lease_id: order.lease.id, window: 803, kind: "evaluate", last_heartbeat_at_ms: null }],
    });
    const beaten = await beat(order);
    const seen = await runnerStatus("r1");
    // last_seen_at_ms is rewritten at most once a second.
    expect(seen?.last_seen_at_ms).toBeGreaterThan(beaten.expires_at_ms - LEASE_MS - 1000);
    expect(seen).toMatchObject({
      alive: true,
      active_leases: [
        {
          lease_id: order.lease.id,
          last_heartbeat_at_ms: beaten.expires_at_ms - LEASE_MS,
          expires_at_ms: beaten.expires_at_ms,
        },
      ],
    });
    expect(await runnerStatus("r2")).toMatchObject({ alive: false, last_seen_at_ms: null, active_leases: [] });
    clock.advance(LEASE_MS - SLACK_MS);
    expect((await runnerStatus("r1"))?.alive).toBe(true);
    clock.advance(SLACK_MS + 1);
    expect(await runnerStatus("r1")).toMatchObject({ alive: false, last_seen_at_ms: seen?.last_seen_at_ms });
    // A poll is a sign of life too (this one leases the expired batch again).
    expect((await post("/v1/runner/leases", "token-r1")).status).toBe(200);
    expect((await runnerStatus("r1"))?.alive).toBe(true);
  });
});

describe("results", () => {
  it("records a batch's results once: a repeat is a duplicate and changes nothing", async () => {
    const { first: order } = await leasedToBoth();
    const posted = await post(`/v1/runner/leases/${order.lease.id}/results`, "token-r1", losses(order));
    expect(await posted.json()).toEqual({ recorded: 4, duplicate: false });
    const again = await post(`/v1/runner/leases/${order.lease.id}/results`, "token-r1", {
      evaluations: losses(order).evaluations.map((e) => ({ ...e, loss_after_own: 1 })),
    });
    expect(await again.json()).toEqual({ recorded: 0, duplicate: true });
    const rows = await db.select().from(evaluations).where(eq(evaluations.window, 800));
    expect(rows).toHaveLength(4);
    expect(
      rows.every(
        (r) => r.lossAfterOwn === 5.4 && r.runnerId === "r1" && r.ownSamples?.length === hparams.evaluation.own_samples,
      ),
    ).toBe(true);
  });

  it("records one gradient failing on the runner as its own evaluation's error, with its code", async () => {
    const { first, second } = await leasedToBoth();
    await post(`/v1/runner/leases/${first.lease.id}/results`, "token-r1", losses(first));
    const mixed = losses(second);
    mixed.evaluations[0] = {
      submission_id: second.submissions[0]?.submission_id,
      error: { code: "EVAL_NON_FINITE", message: "loss NaN" },
    } as never;
    expect(await (await post(`/v1/runner/leases/${second.lease.id}/results`, "token-r2", mixed)).json()).toEqual({
      recorded: 2,
      duplicate: false,
    });
    const failed = await db.select().from(evaluations).where(eq(evaluations.uid, 14)).get();
    expect(failed).toMatchObject({ errorCode: "EVAL_NON_FINITE", lossAfterOwn: null });
  });

  it("marks the window evaluated once every batch's results are in", async () => {
    const { first, second } = await leasedToBoth();
    await post(`/v1/runner/leases/${first.lease.id}/results`, "token-r1", losses(first));
    expect(await windowState(800)).toBe("evaluating");
    expect((await post("/v1/runner/leases", "token-r1")).status).toBe(204); // no outer step yet
    await post(`/v1/runner/leases/${second.lease.id}/results`, "token-r2", losses(second));
    expect(await windowState(800)).toBe("evaluated");
    // …and its outer step is queued, the next job a runner leases
    expect(await lease("token-r1")).toMatchObject({ kind: "advance", lease: { window: 800 } });
  });

  it("refuses results that leave out a submission, carry an unknown code or a non-finite loss, recording nothing", async () => {
    await seedWindow(803, [40, 41]);
    await dispatch();
    const order = await lease("token-r1");
    expect(order.lease.window).toBe(803);
    const partial = { evaluations: losses(order).evaluations.slice(1) };
    const res = await post(`/v1/runner/leases/${order.lease.id}/results`, "token-r1", partial);
    expect([res.status, await errorCode(res)]).toEqual([400, "BAD_REQUEST"]);
    const badCode = {
      evaluations: losses(order).evaluations.map((e) => ({
        submission_id: e.submission_id,
        error: { code: "WHATEVER", message: "" },
      })),
    };
    expect((await post(`/v1/runner/leases/${order.lease.id}/results`, "token-r1", badCode)).status).toBe(400);
    const nan = { evaluations: losses(order).evaluations.map((e) => ({ ...e, loss_after_own: "NaN" })) };
    expect((await post(`/v1/runner/leases/${order.lease.id}/results`, "token-r1", nan)).status).toBe(400);
    expect(await db.select().from(evaluations).where(eq(evaluations.window, 803))).toHaveLength(0);
  });
});
