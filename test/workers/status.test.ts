// GET /v1/status over seeded D1 (workerd): counts by state and status, runners, weight sets,
// latencies. Each test starts from the empty world and the same seeded history.
import { beforeEach, describe, expect, it } from "vitest";
import {
  chainHead,
  evaluationBatches,
  evaluationLeases,
  evaluations,
  runners,
  submissions,
  uploadRefusals,
  weightSets,
  windowScores,
  windows,
} from "../../schema/db/index.ts";
import { summarizeLatencies } from "../../workers/status/latency-summary.ts";
import type { ValidatorStatus } from "../../workers/status/validator-status.ts";
import { chainAtPutWindow, db, testApp } from "./support/world.ts";

const T0 = 1_800_000_000_000;
const app = testApp(chainAtPutWindow(50));

/** Window w: put window closes at T0 + w·60 s. */
async function seedWindow(window: number, state: (typeof windows.$inferInsert)["state"]) {
  const closes = T0 + window * 60_000;
  await db.insert(windows).values({
    window,
    startBlock: window * 20,
    endBlock: window * 20 + 19,
    putOpensAtMs: closes - 30_000,
    putClosesAtMs: closes,
    state,
    updatedAtMs: closes,
  });
  return closes;
}

async function seedSubmission(window: number, uid: number, status: "valid" | "invalid" | "copied" | "received") {
  const receivedAtMs = T0 + window * 60_000 - 10_000;
  const [row] = await db
    .insert(submissions)
    .values({
      window,
      uid,
      hotkey: `hk-${uid}`,
      objectKey: `k/${window}/${uid}`,
      sizeBytes: 1,
      sha256: "00".repeat(32),
      receivedAtMs,
      signature: `sig-${window}-${uid}`,
      status,
      // receipt → verdict: 1 s per uid
      validatedAtMs: status === "received" ? null : receivedAtMs + uid * 1000,
    })
    .returning();
  return row?.id as number;
}

/**
 * Window 10: scored; 11: evaluated; 12: evaluating (one batch leased, one parked); 13: put open.
 * Two runners, verdicts 1–3 s after receipt, batches done 90–200 s after the put window closed,
 * two weight sets and a recorded chain head.
 */
async function seedHistory(): Promise<void> {
  const closes10 = await seedWindow(10, "scored");
  const closes11 = await seedWindow(11, "evaluated");
  await seedWindow(12, "evaluating");
  await seedWindow(13, "put_open");
  await db.insert(runners).values([
    { id: "gpu-1", tokenHash: "h1", label: "host-a", device: "cuda:0 NVIDIA H100", createdAtMs: T0 },
    { id: "gpu-2", tokenHash: "h2", createdAtMs: T0, lastHeartbeatAtMs: T0 + 5_000 },
  ]);
  const subs10 = [await seedSubmission(10, 1, "valid"), await seedSubmission(10, 2, "valid")];
  await seedSubmission(10, 3, "copied");
  await seedSubmission(11, 1, "valid");
  await seedSubmission(11, 2, "invalid");
  await seedSubmission(12, 1, "valid");
  await seedSubmission(13, 1, "received");
  await db.insert(uploadRefusals).values([
    { window: 13, uid: 4, code: "UPLOAD_TOO_EARLY", message: "early", receivedAtMs: T0 },
    { window: 13, uid: 5, code: "SIGNATURE_INVALID", message: "bad", receivedAtMs: T0 },
  ]);
  // Window 10's batches completed 90 s and 120 s after its put window closed; 11's after 200 s.
  const [b10a, b10b] = await db
    .insert(evaluationBatches)
    .values([
      { window: 10, state: "done", createdAtMs: T0, completedAtMs: closes10 + 90_000 },
      { window: 10, state: "done", createdAtMs: T0, completedAtMs: closes10 + 120_000 },
      { window: 11, state: "done", createdAtMs: T0, completedAtMs: closes11 + 200_000 },
      { window: 12, state: "leased", leaseRunnerId: "gpu-1", leaseExpiresAtMs: T0 + 1e9, createdAtMs: T0 },
      { window: 12, state: "parked", attempts: 3, createdAtMs: T0 },
      { window: 12, kind: "advance", state: "pending", createdAtMs: T0 },
    ])
    .returning();
  const [lease] = await db
    .insert(evaluationLeases)
    .values([
      {
        batchId: b10a?.id as number,
        runnerId: "gpu-1",
        leasedAtMs: T0 + 1000,
        expiresAtMs: T0,
        outcome: "completed",
      },
      { batchId: b10b?.id as number, runnerId: "gpu-1", leasedAtMs: T0 + 7000, expiresAtMs: T0 + 1e9 },
    ])
    .returning();
  for (const [i, id] of subs10.entries()) {
    await db.insert(evaluations).values({
      submissionId: id,
      window: 10,
      uid: i + 1,
      batchId: b10a?.id as number,
      leaseId: lease?.id as number,
      runnerId: "gpu-1",
      totalMs: [400, 600][i],
      createdAtMs: T0,
    });
  }
  const line = { hotkey: "hk", outcome: "evaluated" as const, bmaBefore: 0, bma: 0, matched: true, finalBefore: 0 };
  await db.insert(windowScores).values([
    { ...line, window: 10, uid: 1, finalScore: 1, penalties: [], createdAtMs: closes10 + 150_000 },
    { ...line, window: 10, uid: 2, finalScore: 0, penalties: [], createdAtMs: closes10 + 150_000 },
  ]);
  const set = { netuid: 2, uids: [1], weights: [1], values: [65535], gather: [1], reserve: [], versionKey: "0" };
  await db.insert(weightSets).values([
    { ...set, window: 8, status: "set", attempts: 0, nextAttemptAtMs: T0, createdAtMs: T0, updatedAtMs: T0 },
    {
      ...set,
      window: 10,
      status: "timelocked",
      mode: "timelocked",
      revealRound: 1000,
      revealEpochStartBlock: 300,
      attempts: 1,
      nextAttemptAtMs: T0,
      createdAtMs: T0,
      updatedAtMs: T0 + 9,
    },
  ]);
  await db.insert(chainHead).values({ id: 1, block: 280, hash: "0xab", timestampMs: T0, seenAtMs: T0 + 1 });
}

describe("GET /v1/status", () => {
  let status: ValidatorStatus;

  beforeEach(async () => {
    await seedHistory();
    const res = await app.call("/v1/status");
    expect(res.status).toBe(200);
    status = (await res.json()) as ValidatorStatus;
  });

  it("counts windows by state and lists the latest, newest first", () => {
    expect(status.windows).toEqual({
      by_state: { scored: 1, evaluated: 1, evaluating: 1, put_open: 1 },
      latest: [13, 12, 11, 10],
    });
  });

  it("counts each latest window's submissions by status, and its refusals", () => {
    expect(status.submissions).toEqual([
      { window: 13, state: "put_open", by_status: { received: 1 }, refused: 2 },
      { window: 12, state: "evaluating", by_status: { valid: 1 }, refused: 0 },
      { window: 11, state: "evaluated", by_status: { valid: 1, invalid: 1 }, refused: 0 },
      { window: 10, state: "scored", by_status: { valid: 2, copied: 1 }, refused: 0 },
    ]);
  });

  it("counts batches by kind and state", () => {
    expect(status.batches).toEqual({ evaluate: { done: 3, leased: 1, parked: 1 }, advance: { pending: 1 } });
  });

  it("lists runners with their last heartbeat, last lease, liveness and active leases", () => {
    expect(status.runners).toEqual([
      {
        id: "gpu-1",
        label: "host-a",
        device: "cuda:0 NVIDIA H100",
        disabled: false,
        last_heartbeat_at_ms: null,
        last_leased_at_ms: T0 + 7000,
        last_seen_at_ms: null,
        alive: false,
        active_leases: [
          {
            lease_id: expect.any(Number),
            batch_id: expect.any(Number),
            window: 10,
            kind: "evaluate",
            leased_at_ms: T0 + 7000,
            last_heartbeat_at_ms: null,
            expires_at_ms: T0 + 1e9,
          },
        ],
      },
      {
        id: "gpu-2",
        label: null,
        device: null,
        disabled: false,
        last_heartbeat_at_ms: T0 + 5000,
        last_leased_at_ms: null,
        last_seen_at_ms: null,
        alive: false,
        active_leases: [],
      },
    ]);
  });

  it("reports weight sets by status and the latest, the recorded chain head, and intake", () => {
    expect(status.weight_sets.by_status).toEqual({ set: 1, timelocked: 1 });
    expect(status.weight_sets.latest).toMatchObject({
      window: 10,
      status: "timelocked",
      updated_at_ms: T0 + 9,
      mode: "timelocked",
      reveal_round: 1000,
      reveal_epoch_start_block: 300,
      set_block: null,
    });
    expect(status.weight_sets.mode_preference).toBe("auto");
    expect(status.chain_head).toEqual({ block: 280, timestamp_ms: T0, seen_at_ms: T0 + 1 });
    expect(status.intake.paused).toBe(false);
  });

  it("summarizes latencies: receipt to verdict, put close to evaluated and to scored, evaluation time", () => {
    // Verdicts after 1, 2, 3, 1, 2, 1 s: sorted [1, 1, 1, 2, 2, 3], nearest-rank median 1 s, p90 3 s.
    expect(status.latencies.receipt_to_verdict).toEqual({ count: 6, median_ms: 1000, p90_ms: 3000, max_ms: 3000 });
    // Put close → last batch done: window 10 after 120 s, window 11 after 200 s (window 12 is not evaluated).
    expect(status.latencies.put_close_to_evaluated).toMatchObject({ count: 2, median_ms: 120_000, max_ms: 200_000 });
    expect(status.latencies.put_close_to_scored).toEqual({
      count: 1,
      median_ms: 150_000,
      p90_ms: 150_000,
      max_ms: 150_000,
    });
    expect(status.latencies.evaluation_total).toMatchObject({ count: 2, median_ms: 400, max_ms: 600 });
  });

  it("covers fewer windows on request, and refuses a count that is not a number", async () => {
    const two = (await (await app.call("/v1/status?windows=2")).json()) as ValidatorStatus;
    expect(two.windows.latest).toEqual([13, 12]);
    expect(two.latencies.receipt_to_verdict.count).toBe(1); // window 13's upload awaits its verdict
    expect((await app.call("/v1/status?windows=x")).status).toBe(400);
  });
});

describe("summarizeLatencies", () => {
  it("summarizes latencies by nearest rank and drops what is not a duration", () => {
    expect(summarizeLatencies([])).toEqual({ count: 0, median_ms: null, p90_ms: null, max_ms: null });
    const tens = Array.from({ length: 10 }, (_, i) => (i + 1) * 10);
    expect(summarizeLatencies([...tens, null, Number.NaN, -5])).toEqual({
      count: 10,
      median_ms: 50,
      p90_ms: 90,
      max_ms: 100,
    });
  });
});
