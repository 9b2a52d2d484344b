// Admin routes in workerd (real D1, R2, signatures): the token, pausing intake, re-running a
// window's evaluation. Each test starts from the empty world and seeds what it needs.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import {
  adminActions,
  archivedEvaluations,
  evaluationBatches,
  evaluationLeases,
  evaluations,
  runners,
  submissions,
  uploadRefusals,
  windowScores,
  windows,
} from "../../schema/db/index.ts";
import { createApp } from "../../workers/app.ts";
import { workerContext } from "../../workers/context.ts";
import { tokenHash } from "../../workers/runners/runner-auth.ts";
import { scoreWindowInD1 } from "../../workers/scoring/window-scoring.ts";
import { buildGradient, IDENTITY, TEST_MANIFEST } from "../shared/fixtures/gradients.ts";
import { miner, NETUID, uploadHeaders } from "./support/miners.ts";
import { chainAtPutWindow, db, publishManifest, recordPutWindow, registerMiners } from "./support/world.ts";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
const WINDOW = 300;
const carol = miner(5, "carol");
const chain = chainAtPutWindow(WINDOW);

/** The app with `vars` added to the bindings (a secret such as ADMIN_TOKEN, or none). */
function appWith(vars: Record<string, string>) {
  const app = createApp({ chain: () => chain });
  const bindings = { ...env, ...vars } as Env;
  return async (path: string, init?: RequestInit): Promise<Response> => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`http://edge${path}`, init), bindings, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
}

const call = appWith({ ADMIN_TOKEN });
const asAdmin = (path: string, body?: unknown, token = ADMIN_TOKEN) =>
  call(path, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

function upload(window: number) {
  const file = buildGradient(carol.uid * 1000 + window, TEST_MANIFEST, undefined, {
    ...IDENTITY,
    netuid: NETUID,
    window,
    uid: carol.uid,
    hotkey: carol.hotkey,
  }).file;
  return call(`/v1/gradients/${window}/${carol.uid}`, {
    method: "PUT",
    body: file,
    headers: { ...uploadHeaders(carol, window, file), "Content-Length": String(file.length) },
  });
}

describe("admin token", () => {
  it("without the ADMIN_TOKEN secret, admin routes are off (ADMIN_DISABLED, 403: not a server fault)", async () => {
    const res = await appWith({})("/v1/admin/intake", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe("ADMIN_DISABLED");
  });

  it("refuses a missing or wrong token (UNAUTHORIZED, 401) and changes nothing", async () => {
    const before = await db.select().from(adminActions);
    const missing = await call("/v1/admin/intake/pause", { method: "POST" });
    expect(missing.status).toBe(401);
    expect((await errorOf(missing)).code).toBe("UNAUTHORIZED");
    for (const token of ["wrong", `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1)]) {
      const res = await asAdmin("/v1/admin/intake/pause", undefined, token);
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe("UNAUTHORIZED");
    }
    const rerun = await asAdmin(`/v1/admin/windows/${WINDOW}/rerun-evaluation`, undefined, "wrong");
    expect(rerun.status).toBe(401);
    expect(await db.select().from(adminActions)).toEqual(before);
  });
});

describe("pausing intake", () => {
  beforeEach(async () => {
    await publishManifest();
    await registerMiners([carol], chain);
    await recordPutWindow(WINDOW, -1000, 60_000);
  });

  const pause = () => asAdmin("/v1/admin/intake/pause", { reason: "maintenance" });

  it("is recorded with its reason, and the intake state says so", async () => {
    const paused = await pause();
    expect(paused.status).toBe(200);
    expect(((await paused.json()) as { intake: { paused: boolean } }).intake).toMatchObject({
      paused: true,
      reason: "maintenance",
    });
    const state = await call("/v1/admin/intake", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(((await state.json()) as { intake: { paused: boolean } }).intake.paused).toBe(true);
  });

  it("refuses uploads with INTAKE_PAUSED (503), storing nothing and charging no refusal to the miner", async () => {
    await pause();
    const refused = await upload(WINDOW);
    expect(refused.status).toBe(503);
    const error = await errorOf(refused);
    expect(error.code).toBe("INTAKE_PAUSED");
    expect(error.message).toContain("maintenance");
    // Nothing stored: no submission, no object, no refusal charged to the miner (it is the validator's choice).
    expect(await db.select().from(submissions).where(eq(submissions.window, WINDOW))).toEqual([]);
    expect((await env.GRADIENTS.list({ prefix: `gradients/${NETUID}/${WINDOW}/` })).objects).toEqual([]);
    expect(await db.select().from(uploadRefusals).where(eq(uploadRefusals.window, WINDOW))).toEqual([]);
  });

  it("refuses to open a multipart session with INTAKE_PAUSED", async () => {
    await pause();
    const session = await call(`/v1/gradients/${WINDOW}/${carol.uid}/multipart`, {
      method: "POST",
      headers: { ...uploadHeaders(carol, WINDOW, new Uint8Array(10)), "X-Templar-Size": "10" },
    });
    expect((await errorOf(session)).code).toBe("INTAKE_PAUSED");
  });

  it("lets uploads through once resumed, and logs the pause and the resume", async () => {
    await pause();
    const resumed = await asAdmin("/v1/admin/intake/resume");
    expect(((await resumed.json()) as { intake: { paused: boolean } }).intake.paused).toBe(false);
    const accepted = await upload(WINDOW);
    expect(accepted.status).toBe(202);

    const log = (await (
      await call("/v1/admin/actions", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { actions: { action: string; reason: string | null }[] };
    expect(log.actions.slice(0, 2).map((a) => a.action)).toEqual(["resume_intake", "pause_intake"]);
  });
});

describe("re-running a window's evaluation", () => {
  const W = 310;
  const now = Date.now();

  /** A window with a done batch (two evaluations) and a leased batch (one active lease). */
  async function seedEvaluatedWindow(window: number, state: "evaluating" | "evaluated" | "scored") {
    await db.insert(windows).values({ window, startBlock: 0, endBlock: 0, state, updatedAtMs: now });
    const ids: number[] = [];
    for (const uid of [1, 2, 3]) {
      const [row] = await db
        .insert(submissions)
        .values({
          window,
          uid,
          hotkey: `hk-${uid}`,
          objectKey: `gradients/2/${window}/${uid}.safetensors`,
          sizeBytes: 100,
          sha256: "00".repeat(32),
          receivedAtMs: now,
          signature: `sig-${window}-${uid}`,
          status: "valid",
        })
        .returning();
      ids.push(row?.id as number);
    }
    const [done] = await db
      .insert(evaluationBatches)
      .values({ window, state: "done", attempts: 1, createdAtMs: now, completedAtMs: now })
      .returning();
    const [leased] = await db
      .insert(evaluationBatches)
      .values({
        window,
        state: "leased",
        attempts: 2,
        leaseRunnerId: "runner-a",
        leaseExpiresAtMs: now + 600_000,
        lastErrorCode: "LEASE_EXPIRED",
        createdAtMs: now,
      })
      .returning();
    const [doneLease] = await db
      .insert(evaluationLeases)
      .values({
        batchId: done?.id as number,
        runnerId: "runner-a",
        leasedAtMs: now,
        expiresAtMs: now,
        outcome: "completed",
      })
      .returning();
    const [activeLease] = await db
      .insert(evaluationLeases)
      .values({ batchId: leased?.id as number, runnerId: "runner-a", leasedAtMs: now, expiresAtMs: now + 600_000 })
      .returning();
    await db
      .update(evaluationBatches)
      .set({ leaseId: activeLease?.id as number })
      .where(eq(evaluationBatches.id, leased?.id as number));
    for (const [i, uid] of [1, 2].entries()) {
      await db.insert(evaluations).values({
        submissionId: ids[i] as number,
        window,
        uid,
        batchId: done?.id as number,
        leaseId: doneLease?.id as number,
        runnerId: "runner-a",
        lossBeforeOwn: 5.5,
        lossAfterOwn: 5.25 + i,
        lossBeforeRandom: 5.6,
        lossAfterRandom: 5.5,
        ownSamples: [1, 2, 3],
        totalMs: 40 + i,
        createdAtMs: now,
      });
    }
    return { activeLeaseId: activeLease?.id as number };
  }

  beforeEach(async () => {
    await db.insert(runners).values({ id: "runner-a", tokenHash: await tokenHash("runner-a-token"), createdAtMs: now });
  });

  /** Re-runs window W, seeded evaluating; returns the rerun summary and the lease it revoked. */
  async function rerunW() {
    const { activeLeaseId } = await seedEvaluatedWindow(W, "evaluating");
    const res = await asAdmin(`/v1/admin/windows/${W}/rerun-evaluation`, { reason: "runner bug" });
    expect(res.status).toBe(200);
    const { rerun } = (await res.json()) as { rerun: Record<string, number | string> };
    return { rerun, activeLeaseId };
  }

  it("puts every evaluation batch back to pending and clears the window's evaluations", async () => {
    const { rerun } = await rerunW();
    expect(rerun).toMatchObject({
      window: W,
      state_before: "evaluating",
      batches_reset: 2,
      evaluations_archived: 2,
      leases_revoked: 1,
    });
    const batches = await db.select().from(evaluationBatches).where(eq(evaluationBatches.window, W));
    expect(batches.map((b) => [b.state, b.attempts, b.leaseId, b.completedAtMs])).toEqual([
      ["pending", 0, null, null],
      ["pending", 0, null, null],
    ]);
    expect(await db.select().from(evaluations).where(eq(evaluations.window, W))).toEqual([]);
    expect((await db.select().from(windows).where(eq(windows.window, W)).get())?.state).toBe("evaluating");
  });

  it("loses nothing: each evaluation archived as it was, and each batch as it was in the admin log", async () => {
    const { rerun } = await rerunW();
    const archived = await db
      .select()
      .from(archivedEvaluations)
      .where(eq(archivedEvaluations.window, W))
      .orderBy(archivedEvaluations.uid);
    expect(archived.map((a) => [a.uid, a.adminActionId])).toEqual([
      [1, rerun.admin_action_id],
      [2, rerun.admin_action_id],
    ]);
    expect(archived[1]?.row).toMatchObject({ uid: 2, loss_after_own: 6.25, total_ms: 41, own_samples: [1, 2, 3] });
    const action = await db
      .select()
      .from(adminActions)
      .where(eq(adminActions.id, rerun.admin_action_id as number))
      .get();
    expect(action).toMatchObject({ action: "rerun_evaluation", window: W, reason: "runner bug" });
    expect((action?.details as { batches: { state: string; last_error_code: string | null }[] }).batches).toEqual([
      expect.objectContaining({ state: "done", attempts: 1 }),
      expect.objectContaining({ state: "leased", attempts: 2, last_error_code: "LEASE_EXPIRED" }),
    ]);
  });

  it("revokes live leases: their results are refused, and the batch waits for a new lease", async () => {
    const { activeLeaseId } = await rerunW();
    const lease = await db.select().from(evaluationLeases).where(eq(evaluationLeases.id, activeLeaseId)).get();
    expect(lease?.outcome).toBe("revoked");
    const late = await call(`/v1/runner/leases/${activeLeaseId}/results`, {
      method: "POST",
      headers: { Authorization: "Bearer runner-a-token", "Content-Type": "application/json" },
      body: JSON.stringify({ evaluations: [] }),
    });
    expect(late.status).toBe(409);
    expect((await errorOf(late)).code).toBe("LEASE_NOT_HELD");
  });

  it("re-runs an evaluated window too", async () => {
    await seedEvaluatedWindow(W + 1, "evaluated");
    const ok = await asAdmin(`/v1/admin/windows/${W + 1}/rerun-evaluation`);
    expect(((await ok.json()) as { rerun: { state_before: string } }).rerun.state_before).toBe("evaluated");
  });

  it("refuses a scored window (RERUN_REFUSED, 409) and changes nothing", async () => {
    await seedEvaluatedWindow(W + 2, "scored");
    const scored = await asAdmin(`/v1/admin/windows/${W + 2}/rerun-evaluation`);
    expect(scored.status).toBe(409);
    const error = await errorOf(scored);
    expect(error.code).toBe("RERUN_REFUSED");
    expect(error.message).toContain("scored");
    // A refusal changes nothing.
    expect(
      await db
        .select()
        .from(evaluations)
        .where(eq(evaluations.window, W + 2)),
    ).toHaveLength(2);
    const states = await db
      .select()
      .from(evaluationBatches)
      .where(eq(evaluationBatches.window, W + 2));
    expect(states.map((b) => b.state)).toEqual(["done", "leased"]);
  });

  it("refuses a window not yet dispatched (RERUN_REFUSED), and answers an unknown one with 404", async () => {
    await recordPutWindow(W + 3, -1000, 60_000);
    const open = await asAdmin(`/v1/admin/windows/${W + 3}/rerun-evaluation`);
    expect((await errorOf(open)).code).toBe("RERUN_REFUSED");
    const unknown = await asAdmin("/v1/admin/windows/999999/rerun-evaluation");
    expect(unknown.status).toBe(404);
  });

  it("a window re-run while it was being scored gets no scores: scoring writes nothing unless it is still evaluated", async () => {
    await registerMiners([carol], chain);
    await seedEvaluatedWindow(W + 4, "evaluated");
    await asAdmin(`/v1/admin/windows/${W + 4}/rerun-evaluation`);
    // What a tick that read its inputs before the re-run would write now.
    const ctx = workerContext({ ...env, ADMIN_TOKEN } as Env, () => chain);
    await expect(scoreWindowInD1(ctx, W + 4)).rejects.toMatchObject({
      code: "WINDOW_STATE_CONFLICT",
      details: { transition: "score", state: "evaluating" },
    });
    expect(
      await db
        .select()
        .from(windowScores)
        .where(eq(windowScores.window, W + 4)),
    ).toEqual([]);
    expect(
      (
        await db
          .select()
          .from(windows)
          .where(eq(windows.window, W + 4))
          .get()
      )?.state,
    ).toBe("evaluating");
  });
});
