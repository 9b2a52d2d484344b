// The outer step through the runner API in workerd (real D1 and R2): queued when a window's
// evaluation completes, with peers chosen from what it measured; leased before evaluation
// batches, its files checked and stored, its result recorded once as the checkpoint of the next
// window; the next window's evaluation waits for it. Each test seeds its own windows (the
// manifests, θ_0 and the runner in a beforeEach).
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import type { WindowReportJson } from "../../schema/api/public.ts";
import type { AdvanceOrder, AdvanceResult, WorkOrder } from "../../schema/api/runner.ts";
import { checkpoints, modelAdvances, runners, submissions, uidStates, windows } from "../../schema/db/index.ts";
import { getHparams } from "../../schema/hparams.ts";
import { AGGREGATE_FORMAT, readCheckpoint, writeCheckpoint } from "../../schema/model/checkpoint.ts";
import { aggregateKey, checkpointKey, INITIAL_CHECKPOINT_KEY } from "../../schema/model/keys.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";
import { dataArtifacts } from "../../scripts/artifacts/data-artifacts.ts";
import { workerContext } from "../../workers/context.ts";
import { dispatchValidatedWindows } from "../../workers/evaluation/dispatch.ts";
import { tokenHash } from "../../workers/runners/runner-auth.ts";
import { rng, TEST_MANIFEST } from "../shared/fixtures/gradients.ts";
import { hex } from "./support/miners.ts";
import { chainAtPutWindow, db, publishManifest, testApp } from "./support/world.ts";

const hparams = getHparams("local");
const app = testApp(chainAtPutWindow(900));
const ctx = () => workerContext(env, () => chainAtPutWindow(900));
const TOKEN = "token-adv";
const total = parameterSlots(TEST_MANIFEST).total;
const initial = writeCheckpoint(new Float32Array(total).fill(0.5), TEST_MANIFEST, {
  model: TEST_MANIFEST.model,
  window: 0,
  global_step: 0,
});
const corpus = new Uint8Array(200_000).map(() => Math.floor(rng(3)() * 256));
const DATA = [...dataArtifacts(corpus, "synthetic.txt", hparams)];

/** θ_701 and the aggregate of window 700, as a runner applying peers 3 and 4 would upload them. */
const checkpoint = writeCheckpoint(new Float32Array(total).fill(0.25), TEST_MANIFEST, {
  model: TEST_MANIFEST.model,
  window: 701,
  global_step: 1,
});
const aggregate = writeCheckpoint(
  new Float32Array(total).fill(0.25),
  TEST_MANIFEST,
  { model: TEST_MANIFEST.model, window: 700, global_step: 1 },
  AGGREGATE_FORMAT,
);

async function seedWindow(window: number, subs: { uid: number; status: "valid" | "invalid" | "copied" }[]) {
  const now = Date.now();
  await db.insert(windows).values({
    window,
    startBlock: window * 20,
    endBlock: window * 20 + 19,
    seedBlockHash: `0x${"42".repeat(32)}`,
    state: "validated",
    updatedAtMs: now,
  });
  for (const { uid, status } of subs) {
    await db.insert(submissions).values({
      window,
      uid,
      hotkey: `hk-${uid}`,
      objectKey: `gradients/2/${window}/${uid}.safetensors`,
      sizeBytes: 100,
      sha256: "ab".repeat(32),
      receivedAtMs: now,
      signature: `sig-${window}-${uid}`,
      status,
    });
  }
}

const call = (method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}) =>
  app.call(path, { method, headers: { Authorization: `Bearer ${TOKEN}`, ...headers }, body });
const lease = async () => {
  const res = await call("POST", "/v1/runner/leases");
  return res.status === 204 ? null : ((await res.json()) as AdvanceOrder | WorkOrder);
};
const sha256 = async (bytes: Uint8Array) => hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
const put = async (leaseId: number, name: string, bytes: Uint8Array, sha?: string) =>
  call("PUT", `/v1/runner/leases/${leaseId}/artifacts/${name}`, bytes, {
    "X-Templar-Sha256": sha ?? (await sha256(bytes)),
  });
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
const results = (order: AdvanceOrder, body: unknown) =>
  call("POST", `/v1/runner/leases/${order.lease.id}/results`, JSON.stringify(body));

/** What the runner posts for window 700 after applying peers 3 and 4. */
const result = async (): Promise<AdvanceResult> => ({
  applied_uids: [3, 4],
  heldout_loss_before: 5.5,
  heldout_loss_after: 5.25,
  checkpoint_sha256: await sha256(checkpoint),
  aggregate_sha256: await sha256(aggregate),
});

/**
 * Leases the window's evaluation batch and posts, for each uid, its random-sample improvement
 * (relative; `null`: the evaluation failed); the window completes and its outer step is queued.
 */
async function evaluate(window: number, improvement: Record<number, number | null>): Promise<void> {
  const order = (await lease()) as WorkOrder;
  expect([order.kind, order.lease.window]).toEqual(["evaluate", window]);
  const evaluations = order.submissions.map(({ submission_id, uid }) => {
    const x = improvement[uid];
    if (x === undefined) throw new Error(`no improvement given for uid ${uid}`);
    if (x === null) return { submission_id, error: { code: "EVAL_NON_FINITE", message: "loss is NaN" } };
    return {
      submission_id,
      loss_before_own: 5.5,
      loss_after_own: 5.4,
      loss_before_random: 5.6,
      loss_after_random: 5.6 * (1 - x),
    };
  });
  const posted = await call("POST", `/v1/runner/leases/${order.lease.id}/results`, JSON.stringify({ evaluations }));
  expect(posted.status).toBe(200);
}

/**
 * Window 700 (uids 3 and 4 valid, 5 invalid, 6 copied) and window 701 (uid 3) validated; 700
 * dispatched and evaluated (3 and 4 improved the random samples); its outer step leased.
 */
async function outerStepOf700(): Promise<AdvanceOrder> {
  await seedWindow(700, [
    { uid: 3, status: "valid" },
    { uid: 4, status: "valid" },
    { uid: 5, status: "invalid" },
    { uid: 6, status: "copied" },
  ]);
  await seedWindow(701, [{ uid: 3, status: "valid" }]);
  await dispatchValidatedWindows(ctx());
  await evaluate(700, { 3: 0.01, 4: 0.02 });
  return (await lease()) as AdvanceOrder;
}

/** Uploads θ_701 and the aggregate with the lease of window 700's outer step. */
async function uploadFiles(order: AdvanceOrder): Promise<void> {
  expect((await put(order.lease.id, "checkpoint", checkpoint)).status).toBe(201);
  expect((await put(order.lease.id, "aggregate", aggregate)).status).toBe(201);
}

/** Window 700's outer step leased, its files uploaded and its result recorded: θ_701 published. */
async function advancedFrom700(): Promise<AdvanceResult> {
  const order = await outerStepOf700();
  await uploadFiles(order);
  const posted = await result();
  expect(await (await results(order, posted)).json()).toEqual({ window: 701, duplicate: false });
  return posted;
}

beforeEach(async () => {
  await publishManifest();
  await env.ARTIFACTS.put(INITIAL_CHECKPOINT_KEY, initial);
  for (const [key, bytes] of DATA) await env.ARTIFACTS.put(key, bytes);
  await db.insert(runners).values({ id: "adv", tokenHash: await tokenHash(TOKEN), createdAtMs: Date.now() });
});

describe("queueing and leasing the outer step", () => {
  it("is queued once the window is evaluated, with θ_S, the gradients that improved the loss as genesis peers and the held-out draw", async () => {
    await seedWindow(700, [
      { uid: 3, status: "valid" },
      { uid: 4, status: "valid" },
      { uid: 5, status: "valid" },
      { uid: 6, status: "valid" },
    ]);
    await dispatchValidatedWindows(ctx());
    expect(await db.select().from(modelAdvances)).toEqual([]); // nothing to choose peers from yet
    await evaluate(700, { 3: 0.01, 4: 0.02, 5: -0.01, 6: null });
    const order = (await lease()) as AdvanceOrder;
    expect(order.kind).toBe("advance");
    expect(order).toMatchObject({ next_window: 701, outer_lr: 1, peer_mode: "unrated" });
    expect(order.checkpoint).toEqual({ window: 0, url: "/v1/checkpoints/700", global_step: 0 });
    expect(order.peers.map((p) => [p.uid, p.hotkey, p.gradient_url])).toEqual([
      [3, "hk-3", "/v1/gradients/700/3"],
      [4, "hk-4", "/v1/gradients/700/4"],
    ]);
    expect(order.heldout).toHaveLength(hparams.evaluation.heldout_samples);
    const advance = await db.select().from(modelAdvances).where(eq(modelAdvances.window, 700)).get();
    expect(advance?.skipped).toEqual([
      { uid: 6, reason: "its evaluation failed or was not finite" },
      { uid: 5, reason: "genesis: it did not improve the loss on the random samples" },
    ]);
  });

  it("holds the next window back while the outer step that makes its θ is pending", async () => {
    await seedWindow(700, [{ uid: 3, status: "valid" }]);
    await seedWindow(701, [{ uid: 3, status: "valid" }]);
    // 701 waits: θ_701 is not settled while 700 is evaluated, then while its outer step is pending.
    expect(await dispatchValidatedWindows(ctx())).toEqual([{ window: 700, batches: 1 }]);
    await evaluate(700, { 3: 0.01 });
    expect(await dispatchValidatedWindows(ctx())).toEqual([]);
    expect((await db.select().from(windows).where(eq(windows.window, 701)).get())?.state).toBe("validated");
  });

  it("takes as peers the uids the weights pay once anyone is rated, and says why it skips the others", async () => {
    const state = (uid: number, finalScore: number, banWindowsLeft = 0) => ({
      uid,
      hotkey: `hk-${uid}`,
      bma: 0.1,
      finalScore,
      banWindowsLeft,
      updatedWindow: 709,
    });
    await db.insert(uidStates).values([state(3, 2), state(4, 0), state(7, 1), state(8, 3, 150)]);
    await seedWindow(710, [
      { uid: 3, status: "valid" },
      { uid: 4, status: "valid" },
      { uid: 8, status: "valid" },
      { uid: hparams.weights.burn_uid, status: "valid" },
    ]);
    await dispatchValidatedWindows(ctx());
    await evaluate(710, { 3: 0.01, 4: 0.05, 8: 0.05, [hparams.weights.burn_uid]: 0.05 });
    const advance = await db.select().from(modelAdvances).where(eq(modelAdvances.window, 710)).get();
    expect(advance?.peerMode).toBe("rated");
    expect(advance?.peers.map((p) => p.uid)).toEqual([3]);
    expect(advance?.skipped).toEqual([
      { uid: hparams.weights.burn_uid, reason: "the burn uid" },
      { uid: 8, reason: "banned for copying" },
      { uid: 7, reason: "in the peer list without a valid, evaluated submission" },
      { uid: 4, reason: "not in the peer list" },
    ]);
  });
});

describe("the outer step's files", () => {
  it("refuses results posted before the files are uploaded", async () => {
    const order = await outerStepOf700();
    const early = await results(order, await result());
    expect([early.status, await errorCode(early)]).toEqual([400, "BAD_REQUEST"]);
  });

  it("refuses a file that is not the one named (the aggregate as the checkpoint)", async () => {
    const order = await outerStepOf700();
    const wrongKind = await put(order.lease.id, "checkpoint", aggregate);
    expect([wrongKind.status, await errorCode(wrongKind)]).toEqual([400, "BAD_REQUEST"]);
  });

  it("refuses bytes that are not the signed ones (SHA256_MISMATCH)", async () => {
    const order = await outerStepOf700();
    const forged = await put(order.lease.id, "checkpoint", checkpoint, "cd".repeat(32));
    expect([forged.status, await errorCode(forged)]).toEqual([422, "SHA256_MISMATCH"]);
  });

  it("answers an artifact name it does not know with 404", async () => {
    const order = await outerStepOf700();
    expect((await put(order.lease.id, "weights", checkpoint)).status).toBe(404);
  });

  it("stores θ_{S+1} and the aggregate the lease uploads", async () => {
    const order = await outerStepOf700();
    await uploadFiles(order);
    expect(
      await sha256(new Uint8Array(await ((await env.ARTIFACTS.get(checkpointKey(701))) as R2ObjectBody).arrayBuffer())),
    ).toBe(await sha256(checkpoint));
    expect((await env.ARTIFACTS.head(aggregateKey(700)))?.size).toBe(aggregate.length);
  });
});

describe("the outer step's result", () => {
  it("refuses applied uids that are not the job's peers", async () => {
    const order = await outerStepOf700();
    await uploadFiles(order);
    const notPeer = await results(order, { ...(await result()), applied_uids: [3, 5] });
    expect([notPeer.status, await errorCode(notPeer)]).toEqual([400, "BAD_REQUEST"]);
  });

  it("records the result once: a repeat is a duplicate", async () => {
    const order = await outerStepOf700();
    await uploadFiles(order);
    const posted = await result();
    expect(await (await results(order, posted)).json()).toEqual({ window: 701, duplicate: false });
    expect(await (await results(order, { ...posted, heldout_loss_after: 1 })).json()).toEqual({
      window: 701,
      duplicate: true,
    });
    const rows = await db.select().from(checkpoints).orderBy(checkpoints.window);
    expect(rows[1]?.heldOutBpb).toBeCloseTo(5.25 / Math.LN2, 12);
  });

  it("records θ_{S+1} as the checkpoint of window S+1, and θ_S's measured held-out loss", async () => {
    await advancedFrom700();
    const rows = await db.select().from(checkpoints).orderBy(checkpoints.window);
    expect(rows.map((r) => [r.window, r.objectKey, r.globalStep, r.advancedFrom])).toEqual([
      [0, INITIAL_CHECKPOINT_KEY, 0, null],
      [701, "checkpoints/701.safetensors", 1, 700],
    ]);
    expect(rows[0]?.heldOutBpb).toBeCloseTo(5.5 / Math.LN2, 12);
    expect(rows[1]?.heldOutBpb).toBeCloseTo(5.25 / Math.LN2, 12);
    expect(rows[0]?.sha256).toBe(await sha256(initial));
  });

  it("serves θ_{S+1} as window S+1's checkpoint, θ_S still for window S, and the aggregate", async () => {
    const posted = await advancedFrom700();
    const served = await app.call("/v1/checkpoints/701");
    expect(served.headers.get("X-Templar-Checkpoint-Window")).toBe("701");
    expect(readCheckpoint(new Uint8Array(await served.arrayBuffer()), TEST_MANIFEST).params[0]).toBe(0.25);
    expect((await app.call("/v1/checkpoints/700")).headers.get("X-Templar-Checkpoint-Window")).toBe("0");
    expect(await sha256(new Uint8Array(await (await app.call("/v1/aggregates/700")).arrayBuffer()))).toBe(
      posted.aggregate_sha256,
    );
  });

  it("shows the outer step in the window's report", async () => {
    await advancedFrom700();
    const report = (await (await app.call("/v1/windows/700")).json()) as WindowReportJson;
    expect(report.outer_step).toMatchObject({ peer_mode: "unrated", peers: [3, 4], applied_uids: [3, 4] });
    expect(report.outer_step?.heldout_bpb_after).toBeCloseTo(5.25 / Math.LN2, 12);
  });

  it("dispatches the next window once θ_{S+1} is recorded, and its evaluation runs on θ_{S+1}", async () => {
    await advancedFrom700();
    expect(await dispatchValidatedWindows(ctx())).toEqual([{ window: 701, batches: 1 }]);
    const order701 = (await lease()) as WorkOrder;
    expect([order701.kind, order701.lease.window]).toEqual(["evaluate", 701]);
    expect(order701.checkpoint).toEqual({ window: 701, url: "/v1/checkpoints/701" });
  });

  it("carries θ_S over as θ_{S+1} when no peer is applied", async () => {
    // θ_710 is θ_701, as an earlier outer step recorded it.
    await db.insert(checkpoints).values({
      window: 701,
      objectKey: checkpointKey(701),
      sha256: await sha256(checkpoint),
      sizeBytes: checkpoint.length,
      globalStep: 1,
      advancedFrom: 700,
      createdAtMs: Date.now(),
    });
    await seedWindow(710, [{ uid: 3, status: "valid" }]);
    await dispatchValidatedWindows(ctx());
    await evaluate(710, { 3: -0.01 }); // genesis, and it made the loss worse: no peer
    const order = await lease();
    expect([order?.kind, order?.lease.window]).toEqual(["advance", 710]);
    const posted = await call(
      "POST",
      `/v1/runner/leases/${order?.lease.id}/results`,
      JSON.stringify({
        applied_uids: [],
        heldout_loss_before: 5.2,
        heldout_loss_after: 5.2,
        checkpoint_sha256: null,
        aggregate_sha256: null,
      }),
    );
    expect(await posted.json()).toEqual({ window: 711, duplicate: false });
    const carried = await db.select().from(checkpoints).where(eq(checkpoints.window, 711)).get();
    expect(carried).toMatchObject({ objectKey: "checkpoints/701.safetensors", globalStep: 1, advancedFrom: null });
  });
});
