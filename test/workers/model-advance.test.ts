// The outer step through the runner API in workerd (real D1 and R2): queued when a window is
// validated, leased before evaluation batches, its files checked and stored, its result recorded
// once as the checkpoint of the next window; the next window's evaluation waits for it.
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { WindowReportJson } from "../../schema/api/public.ts";
import type { AdvanceOrder, AdvanceResult, WorkOrder } from "../../schema/api/runner.ts";
import { checkpoints, modelAdvances, runners, submissions, uidStates, windows } from "../../schema/db/index.ts";
import { getHparams } from "../../schema/hparams.ts";
import { AGGREGATE_FORMAT, readCheckpoint, writeCheckpoint } from "../../schema/model/checkpoint.ts";
import { INITIAL_CHECKPOINT_KEY } from "../../schema/model/keys.ts";
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

describe("the outer step", () => {
  beforeAll(async () => {
    await publishManifest();
    await env.ARTIFACTS.put(INITIAL_CHECKPOINT_KEY, initial);
    const corpus = new Uint8Array(200_000).map(() => Math.floor(rng(3)() * 256));
    for (const [key, bytes] of dataArtifacts(corpus, "synthetic.txt", hparams)) await env.ARTIFACTS.put(key, bytes);
    await db.insert(runners).values({ id: "adv", tokenHash: await tokenHash(TOKEN), createdAtMs: Date.now() });
  });

  it("is leased first, gates the next window, and publishes θ_{S+1} once its files are in", async () => {
    await seedWindow(700, [
      { uid: 3, status: "valid" },
      { uid: 4, status: "valid" },
      { uid: 5, status: "invalid" },
      { uid: 6, status: "copied" },
    ]);
    await seedWindow(701, [{ uid: 3, status: "valid" }]);
    // 701 waits: θ_701 is not settled while 700's outer step is pending.
    expect(await dispatchValidatedWindows(ctx())).toEqual([{ window: 700, batches: 1 }]);

    const order = (await lease()) as AdvanceOrder;
    expect(order.kind).toBe("advance");
    expect(order).toMatchObject({ next_window: 701, outer_lr: 1, peer_mode: "unrated" });
    expect(order.checkpoint).toEqual({ window: 0, url: "/v1/checkpoints/700", global_step: 0 });
    expect(order.peers.map((p) => [p.uid, p.hotkey, p.gradient_url])).toEqual([
      [3, "hk-3", "/v1/gradients/700/3"],
      [4, "hk-4", "/v1/gradients/700/4"],
    ]);
    expect(order.heldout).toHaveLength(hparams.evaluation.heldout_samples);
    expect((await lease())?.kind).toBe("evaluate"); // then the window's evaluation batch

    const next = new Float32Array(total).fill(0.25);
    const checkpoint = writeCheckpoint(next, TEST_MANIFEST, {
      model: TEST_MANIFEST.model,
      window: 701,
      global_step: 1,
    });
    const meta = { model: TEST_MANIFEST.model, window: 700, global_step: 1 };
    const aggregate = writeCheckpoint(new Float32Array(total).fill(0.25), TEST_MANIFEST, meta, AGGREGATE_FORMAT);
    const result: AdvanceResult = {
      applied_uids: [3, 4],
      heldout_loss_before: 5.5,
      heldout_loss_after: 5.25,
      checkpoint_sha256: await sha256(checkpoint),
      aggregate_sha256: await sha256(aggregate),
    };
    const results = (body: unknown) =>
      call("POST", `/v1/runner/leases/${order.lease.id}/results`, JSON.stringify(body));

    // Results before the files, files that are not the model's, or bytes that are not the signed ones: refused.
    const early = await results(result);
    expect([early.status, await errorCode(early)]).toEqual([400, "BAD_REQUEST"]);
    const wrongKind = await put(order.lease.id, "checkpoint", aggregate);
    expect([wrongKind.status, await errorCode(wrongKind)]).toEqual([400, "BAD_REQUEST"]);
    const forged = await put(order.lease.id, "checkpoint", checkpoint, "cd".repeat(32));
    expect([forged.status, await errorCode(forged)]).toEqual([422, "SHA256_MISMATCH"]);
    expect((await put(order.lease.id, "weights", checkpoint)).status).toBe(404);

    expect((await put(order.lease.id, "checkpoint", checkpoint)).status).toBe(201);
    expect((await put(order.lease.id, "aggregate", aggregate)).status).toBe(201);
    const notPeer = await results({ ...result, applied_uids: [3, 5] });
    expect([notPeer.status, await errorCode(notPeer)]).toEqual([400, "BAD_REQUEST"]);
    expect(await (await results(result)).json()).toEqual({ window: 701, duplicate: false });
    expect(await (await results({ ...result, heldout_loss_after: 1 })).json()).toEqual({
      window: 701,
      duplicate: true,
    });

    const rows = await db.select().from(checkpoints).orderBy(checkpoints.window);
    expect(rows.map((r) => [r.window, r.objectKey, r.globalStep, r.advancedFrom])).toEqual([
      [0, INITIAL_CHECKPOINT_KEY, 0, null],
      [701, "checkpoints/701.safetensors", 1, 700],
    ]);
    expect(rows[0]?.heldOutBpb).toBeCloseTo(5.5 / Math.LN2, 12);
    expect(rows[1]?.heldOutBpb).toBeCloseTo(5.25 / Math.LN2, 12);
    expect(rows[0]?.sha256).toBe(await sha256(initial));

    const served = await app.call("/v1/checkpoints/701");
    expect(served.headers.get("X-Templar-Checkpoint-Window")).toBe("701");
    expect(readCheckpoint(new Uint8Array(await served.arrayBuffer()), TEST_MANIFEST).params[0]).toBe(0.25);
    expect((await app.call("/v1/checkpoints/700")).headers.get("X-Templar-Checkpoint-Window")).toBe("0");
    expect(await sha256(new Uint8Array(await (await app.call("/v1/aggregates/700")).arrayBuffer()))).toBe(
      result.aggregate_sha256,
    );
    const report = (await (await app.call("/v1/windows/700")).json()) as WindowReportJson;
    expect(report.outer_step).toMatchObject({ peer_mode: "unrated", peers: [3, 4], applied_uids: [3, 4] });
    expect(report.outer_step?.heldout_bpb_after).toBeCloseTo(5.25 / Math.LN2, 12);

    // θ_701 settled: 701 is dispatched, and its evaluation runs on θ_701.
    expect(await dispatchValidatedWindows(ctx())).toEqual([{ window: 701, batches: 1 }]);
    await env.DB.prepare("UPDATE evaluation_batches SET state = 'done' WHERE kind = 'advance' AND window = 701").run();
    let order701 = await lease();
    while (order701 && (order701.kind !== "evaluate" || order701.lease.window !== 701)) order701 = await lease();
    expect((order701 as WorkOrder).checkpoint).toEqual({ window: 701, url: "/v1/checkpoints/701" });
  });

  it("takes the uids the weights pay once anyone is rated, and carries θ over when no peer is applied", async () => {
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
    const advance = await db.select().from(modelAdvances).where(eq(modelAdvances.window, 710)).get();
    expect(advance?.peerMode).toBe("rated");
    expect(advance?.peers.map((p) => p.uid)).toEqual([3]);
    expect(advance?.skipped).toEqual([
      { uid: hparams.weights.burn_uid, reason: "the burn uid" },
      { uid: 8, reason: "banned for copying" },
      { uid: 7, reason: "in the peer list without a valid submission" },
      { uid: 4, reason: "not in the peer list" },
    ]);

    let order = await lease();
    while (order && (order.kind !== "advance" || order.lease.window !== 710)) order = await lease();
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
