// Evaluation dispatch, leases and results through the runner API in workerd (real D1).
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { WorkOrder } from "../../schema/api/runner.ts";
import { evaluationBatches, evaluations, runners, submissions, windows } from "../../schema/db/index.ts";
import { getHparams } from "../../schema/hparams.ts";
import { minerPool } from "../../schema/sampling/assignment.ts";
import { dataArtifacts } from "../../scripts/artifacts/data-artifacts.ts";
import { workerContext } from "../../workers/context.ts";
import { dispatchValidatedWindows } from "../../workers/evaluation/dispatch.ts";
import { tokenHash } from "../../workers/runners/runner-auth.ts";
import { rng } from "../shared/fixtures/gradients.ts";
import { chainAtPutWindow, db, testApp } from "./support/world.ts";

const hparams = getHparams("local");
const app = testApp(chainAtPutWindow(900));
const ctx = () => workerContext(env, () => chainAtPutWindow(900));
const SEED = `0x${"42".repeat(32)}`;
let trainSamples = 0;

/** Dispatches validated windows and settles their outer steps (tested in model-advance.test.ts), leaving evaluation batches. */
async function dispatch() {
  const out = await dispatchValidatedWindows(ctx());
  await env.DB.prepare("UPDATE evaluation_batches SET state = 'done' WHERE kind = 'advance'").run();
  return out;
}

async function seedWindow(window: number, uids: number[]): Promise<void> {
  const now = Date.now();
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

describe("evaluation batches and leases", () => {
  beforeAll(async () => {
    const corpus = new Uint8Array(200_000).map(() => Math.floor(rng(1)() * 256));
    for (const [key, bytes] of dataArtifacts(corpus, "synthetic.txt", hparams)) await env.ARTIFACTS.put(key, bytes);
    trainSamples = Math.floor((Math.floor(corpus.length * 0.9) - 1) / hparams.model.seq_len);
    const now = Date.now();
    for (const id of ["r1", "r2"])
      await db.insert(runners).values({ id, tokenHash: await tokenHash(`token-${id}`), createdAtMs: now });
  });

  it("cuts a validated window into batches, leases them one per runner, and records results exactly once", async () => {
    await seedWindow(800, [10, 11, 12, 13, 14, 15]);
    expect(await dispatch()).toEqual([{ window: 800, batches: 2 }]);
    expect((await db.select().from(windows).where(eq(windows.window, 800)).get())?.state).toBe("evaluating");

    const first = await post("/v1/runner/leases", "token-r1");
    expect(first.status).toBe(200);
    const order = (await first.json()) as WorkOrder;
    expect([order.kind, order.lease.window]).toEqual(["evaluate", 800]);
    expect(order.submissions.map((s) => s.uid)).toEqual([10, 11, 12, 13]);
    expect(order.eval_lr).toBeCloseTo(hparams.training.outer_learning_rate * hparams.evaluation.eval_lr_factor, 12);
    expect(order.checkpoint).toEqual({ window: 0, url: "/v1/checkpoints/800" });
    expect(order.random.samples).toHaveLength(hparams.evaluation.random_samples);
    const poolSize = hparams.training.inner_steps * hparams.training.batch_size;
    for (const s of order.submissions) {
      const pool = new Set(minerPool(s.uid, 800, trainSamples, poolSize));
      expect(s.own.samples).toHaveLength(hparams.evaluation.own_samples);
      expect(s.own.samples.every((id) => pool.has(id))).toBe(true);
    }

    const second = (await (await post("/v1/runner/leases", "token-r2")).json()) as WorkOrder;
    expect(second.submissions.map((s) => s.uid)).toEqual([14, 15]);
    expect((await post("/v1/runner/leases", "token-r2")).status).toBe(204);

    const beat = (await (await post(`/v1/runner/leases/${order.lease.id}/heartbeat`, "token-r1")).json()) as {
      expires_at_ms: number;
    };
    expect(beat.expires_at_ms).toBeGreaterThanOrEqual(order.lease.expires_at_ms);
    const stolen = await post(`/v1/runner/leases/${order.lease.id}/heartbeat`, "token-r2");
    expect([stolen.status, await errorCode(stolen)]).toEqual([409, "LEASE_NOT_HELD"]);

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

    // r2's lease runs out: its batch goes back, r1 takes it, and r2's late results change nothing.
    await env.DB.prepare("UPDATE evaluation_batches SET lease_expires_at_ms = 1 WHERE lease_id = ?")
      .bind(second.lease.id)
      .run();
    const retaken = (await (await post("/v1/runner/leases", "token-r1")).json()) as WorkOrder;
    expect(retaken.submissions.map((s) => s.uid)).toEqual([14, 15]);
    const batch = await db
      .select()
      .from(evaluationBatches)
      .where(eq(evaluationBatches.id, retaken.lease.batch_id))
      .get();
    expect(batch).toMatchObject({ attempts: 1, state: "leased", leaseRunnerId: "r1", lastErrorCode: "LEASE_EXPIRED" });
    const late = await post(`/v1/runner/leases/${second.lease.id}/results`, "token-r2", losses(second));
    expect([late.status, await errorCode(late)]).toEqual([409, "LEASE_NOT_HELD"]);
    expect(await db.select().from(evaluations).where(eq(evaluations.window, 800))).toHaveLength(4);

    // One gradient failing on the runner fails only its own evaluation, with its code.
    const mixed = losses(retaken);
    mixed.evaluations[0] = {
      submission_id: retaken.submissions[0]?.submission_id,
      error: { code: "EVAL_NON_FINITE", message: "loss NaN" },
    } as never;
    expect(await (await post(`/v1/runner/leases/${retaken.lease.id}/results`, "token-r1", mixed)).json()).toEqual({
      recorded: 2,
      duplicate: false,
    });
    const failed = await db.select().from(evaluations).where(eq(evaluations.uid, 14)).get();
    expect(failed).toMatchObject({ errorCode: "EVAL_NON_FINITE", lossAfterOwn: null });
    expect((await db.select().from(windows).where(eq(windows.window, 800)).get())?.state).toBe("evaluated");
  });

  it("parks a batch whose leases keep expiring, and lets a runner give a lease back", async () => {
    await seedWindow(801, [20]);
    await dispatch();
    for (let attempt = 1; attempt <= hparams.evaluation.max_attempts; attempt++) {
      const order = (await (await post("/v1/runner/leases", "token-r1")).json()) as WorkOrder;
      expect(order.lease.window).toBe(801);
      await env.DB.prepare("UPDATE evaluation_batches SET lease_expires_at_ms = 1 WHERE lease_id = ?")
        .bind(order.lease.id)
        .run();
    }
    expect((await post("/v1/runner/leases", "token-r1")).status).toBe(204); // the last expiry parked it
    const parked = await db
      .select()
      .from(evaluationBatches)
      .where(and(eq(evaluationBatches.window, 801), eq(evaluationBatches.kind, "evaluate")))
      .get();
    expect(parked).toMatchObject({
      state: "parked",
      attempts: hparams.evaluation.max_attempts,
      lastErrorCode: "LEASE_EXPIRED",
    });

    await seedWindow(802, [30]);
    await dispatch();
    const order = (await (await post("/v1/runner/leases", "token-r2")).json()) as WorkOrder;
    const released = await post(`/v1/runner/leases/${order.lease.id}/release`, "token-r2");
    expect(released.status).toBe(200);
    const back = await db
      .select()
      .from(evaluationBatches)
      .where(and(eq(evaluationBatches.window, 802), eq(evaluationBatches.kind, "evaluate")))
      .get();
    expect(back).toMatchObject({ state: "pending", attempts: 0, leaseId: null });
    // a failure report counts as an attempt
    const again = (await (await post("/v1/runner/leases", "token-r2")).json()) as WorkOrder;
    await post(`/v1/runner/leases/${again.lease.id}/release`, "token-r2", {
      error: { code: "INTERNAL", message: "out of memory" },
    });
    expect(
      await db
        .select()
        .from(evaluationBatches)
        .where(and(eq(evaluationBatches.window, 802), eq(evaluationBatches.kind, "evaluate")))
        .get(),
    ).toMatchObject({
      state: "pending",
      attempts: 1,
      lastErrorCode: "INTERNAL",
    });
  });

  it("refuses requests without a token, and results that do not cover the batch", async () => {
    const anonymous = await app.call("/v1/runner/leases", { method: "POST" });
    expect([anonymous.status, await errorCode(anonymous)]).toEqual([401, "UNAUTHORIZED"]);
    const wrong = await post("/v1/runner/leases", "token-nobody");
    expect(wrong.status).toBe(401);
    await seedWindow(803, [40, 41]);
    await dispatch();
    let order = (await (await post("/v1/runner/leases", "token-r1")).json()) as WorkOrder;
    while (order.lease.window !== 803)
      order = (await (await post("/v1/runner/leases", "token-r1")).json()) as WorkOrder;
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
