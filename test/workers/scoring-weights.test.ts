// Scoring evaluated windows into D1 and taking weight sets to the chain, in workerd with the
// real D1 and R2 bindings. The chain is the fake of support/fake-chain.ts (workerd cannot run the
// subtensor runtime); test/node/weights-e2e.test.ts runs the same cron against the real runtime.
// Each test starts from the empty world with θ_0, a runner, the metagraph and a clock of its own.
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import type { MinerJson, WeightsPreviewJson } from "../../schema/api/public.ts";
import {
  checkpointSamples,
  copyFlags,
  evaluationBatches,
  evaluationLeases,
  evaluations,
  runners,
  submissions,
  uidStates,
  uploadRefusals,
  weightSets,
  windowScores,
  windows,
} from "../../schema/db/index.ts";
import { getHparams } from "../../schema/hparams.ts";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { writeCheckpoint } from "../../schema/model/checkpoint.ts";
import { INITIAL_CHECKPOINT_KEY, MODEL_MANIFEST_KEY } from "../../schema/model/keys.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";
import { chainRefusal } from "../../workers/chain/chain-errors.ts";
import { workerContext } from "../../workers/context.ts";
import { windowTick } from "../../workers/cron/window-tick.ts";
import { scoreEvaluatedWindows } from "../../workers/scoring/window-scoring.ts";
import { advanceWeights, backoffMs } from "../../workers/weights/weight-submission.ts";
import { rng, TEST_MANIFEST } from "../shared/fixtures/gradients.ts";
import { ChainOutage, FakeChain } from "./support/fake-chain.ts";
import { miner, neuronOf } from "./support/miners.ts";
import { insertPendingSet, weightSetEventNames, weightSetOf } from "./support/weight-sets.ts";
import { db, registerMiners, testApp } from "./support/world.ts";

const hp = getHparams("local");
const VALIDATOR_SECRET = "//Charlie//hot";
const validator = hotkeySignerFromSecret(VALIDATOR_SECRET);
const miners = [2, 3, 4, 5, 6, 7].map((uid) => miner(uid));
const { slots, total } = parameterSlots(TEST_MANIFEST);
const theta = new Float32Array(total).map(() => rng(77)() - 0.5);
/** θ_0 at the param_sample positions, as a submission in step with the model carries it. */
const thetaSample = Object.fromEntries(
  slots
    .filter((s) => s.numel >= 12)
    .map((s) => [s.spec.name, Array.from(theta.subarray(s.offset + 10, s.offset + 12))]),
);

const theta0 = writeCheckpoint(theta, TEST_MANIFEST, { model: TEST_MANIFEST.model, window: 0, global_step: 0 });

/** The clock every context of a test runs on: set at the start of each test, moved by the test. */
let clockMs = Date.now();
let chain: FakeChain;
const ctx = (secret: string | undefined = VALIDATOR_SECRET) =>
  workerContext(
    { ...env, VALIDATOR_HOTKEY_SECRET: secret } as Env,
    () => chain,
    () => clockMs,
  );

async function evaluatedWindow(window: number, state: "evaluated" | "evaluating" = "evaluated"): Promise<void> {
  await db.insert(windows).values({ window, startBlock: 0, endBlock: 0, state, updatedAtMs: clockMs });
}

let signatures = 0;
async function submission(window: number, uid: number, status: "valid" | "invalid" | "copied", code?: string) {
  const row = await db
    .insert(submissions)
    .values({
      window,
      uid,
      hotkey: miner(uid).hotkey,
      objectKey: `gradients/2/${window}/${uid}.safetensors`,
      sizeBytes: 100,
      sha256: "00".repeat(32),
      receivedAtMs: clockMs,
      signature: `sig-${signatures++}`,
      status,
      errorCode: code ?? null,
      paramSample: thetaSample,
    })
    .returning({ id: submissions.id })
    .get();
  return row.id;
}

let batchId = 0;
let leaseId = 0;
/** Eight per-sample losses from 5 whose relative improvements are `mean` ± 0.001. */
function samplesAround(mean: number): { before: number[]; after: number[] } {
  const xs = Array.from({ length: 8 }, (_, i) => mean + (i % 2 ? 0.001 : -0.001));
  return { before: xs.map(() => 5), after: xs.map((x) => 5 * (1 - x)) };
}

/**
 * Records a runner's evaluation: random loss 5 → 5·(1 − score), own loss improving by `own`, with
 * per-sample losses (own − random = 0.01 is far past evidence_z_clip standard errors).
 */
async function evaluation(window: number, uid: number, submissionId: number, score: number, own: number) {
  const o = samplesAround(own);
  const r = samplesAround(score);
  await db.insert(evaluations).values({
    submissionId,
    window,
    uid,
    batchId,
    leaseId,
    runnerId: "r1",
    lossBeforeOwn: 5,
    lossAfterOwn: 5 * (1 - own),
    lossBeforeRandom: 5,
    lossAfterRandom: 5 * (1 - score),
    sampleLosses: { own_before: o.before, own_after: o.after, random_before: r.before, random_after: r.after },
    createdAtMs: clockMs,
  });
}

beforeEach(async () => {
  clockMs = Date.now();
  await env.ARTIFACTS.put(MODEL_MANIFEST_KEY, JSON.stringify(TEST_MANIFEST));
  await env.ARTIFACTS.put(INITIAL_CHECKPOINT_KEY, theta0);
  await db.insert(runners).values({ id: "r1", tokenHash: "ab".repeat(32), createdAtMs: clockMs });
  const batch = await db
    .insert(evaluationBatches)
    .values({ window: 0, state: "done", createdAtMs: clockMs })
    .returning({ id: evaluationBatches.id })
    .get();
  batchId = batch.id;
  const lease = await db
    .insert(evaluationLeases)
    .values({ batchId, runnerId: "r1", leasedAtMs: clockMs, expiresAtMs: clockMs, outcome: "completed" })
    .returning({ id: evaluationLeases.id })
    .get();
  leaseId = lease.id;
  chain = new FakeChain({ headNumber: 1000, anchor: { number: 1000, atMs: clockMs }, blockMs: 3000 });
  const neurons = [
    { ...neuronOf(miner(0)), hotkey: validator.address, stakeRao: 10n ** 12n, validatorPermit: true },
    ...miners.map(neuronOf),
  ];
  await registerMiners([], chain);
  chain.neurons = neurons;
  const { storeMetagraph } = await import("../../workers/metagraph/metagraph.ts");
  await storeMetagraph(db, { block: chain.ref(1000), neurons }, clockMs);
});

describe("scoring evaluated windows", () => {
  const W = 4000;

  /**
   * Window W evaluated: uids 2 and 3 improving, 7 worse than random, 4 invalid, 6 valid but not
   * evaluated (its batch was parked), 5 a near copy of 6, and the validator's uid 0 refused late.
   */
  async function seedEvaluatedWindow(): Promise<void> {
    await evaluatedWindow(W);
    await evaluation(W, 2, await submission(W, 2, "valid"), 0.02, 0.03);
    await evaluation(W, 3, await submission(W, 3, "valid"), 0.01, 0.02);
    await evaluation(W, 7, await submission(W, 7, "valid"), -0.01, -0.02);
    await submission(W, 4, "invalid", "INDEX_OUT_OF_RANGE");
    const original = await submission(W, 6, "valid"); // valid, but its batch was parked: not evaluated
    const copy = await submission(W, 5, "copied", "COPY_NEAR");
    await db.insert(copyFlags).values({
      window: W,
      offenderSubmissionId: copy,
      offenderUid: 5,
      originalSubmissionId: original,
      originalUid: 6,
      originalWindow: W,
      kind: "near",
      overlap: 0.42,
      grade: "high",
      createdAtMs: clockMs,
    });
    await db.insert(uploadRefusals).values({
      window: W,
      uid: 0,
      hotkey: validator.address,
      code: "UPLOAD_TOO_LATE",
      message: "late",
      receivedAtMs: clockMs,
    });
  }

  /** Window W seeded and scored; its lines by uid. */
  async function scoredWindow() {
    await seedEvaluatedWindow();
    await scoreEvaluatedWindows(ctx());
    return new Map((await db.select().from(windowScores).where(eq(windowScores.window, W))).map((l) => [l.uid, l]));
  }

  it("scores on a cron tick while the chain does not answer, and sets the weights once it is back", async () => {
    await seedEvaluatedWindow();
    const outage = new ChainOutage(chain);
    const tick = () =>
      windowTick(
        workerContext(
          { ...env, VALIDATOR_HOTKEY_SECRET: VALIDATOR_SECRET } as Env,
          () => outage.client,
          () => clockMs,
        ),
      );
    outage.down = true;
    const down = await tick();
    expect(down.chain).toEqual({ error: expect.stringMatching(/timed out after 10000 ms$/) });
    expect(down.windowsScored).toEqual([{ window: W, lines: 7, matchSize: 3, weightSetId: expect.any(Number) }]);
    expect(down.failed).toEqual([]);
    expect(down.weights).toEqual({ error: expect.stringMatching(/^waiting for the chain/) });
    const id = down.windowsScored[0]?.weightSetId as number;
    expect(await weightSetOf(id)).toMatchObject({ status: "pending", attempts: 0 });
    await tick(); // still down: still pending, nothing sent
    expect(await weightSetOf(id)).toMatchObject({ status: "pending", attempts: 0 });
    expect(chain.txs).toEqual([]);

    outage.down = false;
    const up = await tick();
    expect(up.weights).toMatchObject({ weightSetId: id, status: "submitted" });
    expect(chain.txs).toHaveLength(1);
  });

  it("a tick whose scoring fails (R2 down) still takes the weights on, and reports the failed step", async () => {
    await seedEvaluatedWindow();
    const set = await insertPendingSet({
      window: W - 1,
      netuid: 2,
      uids: [1, 2],
      values: [2, 1],
      gather: [2],
      atMs: clockMs,
    });
    chain.headNumber = 10; // window 0: no put window to record, nothing ahead of W in line
    // An R2 outage cannot be produced in workerd: a bucket whose reads fail stands in for it.
    const down = new Proxy(env.ARTIFACTS, {
      get: (target, prop) =>
        prop === "get" || prop === "head"
          ? () => Promise.reject(new Error("R2 is down"))
          : Reflect.get(target, prop, target),
    });
    const report = await windowTick({ ...ctx(), artifacts: down });
    expect(report.failed).toEqual([{ step: "score", error: "R2 is down" }]);
    expect(report.windowsScored).toEqual([]);
    expect((await db.select().from(windows).where(eq(windows.window, W)).get())?.state).toBe("evaluated");
    expect(report.weights).toMatchObject({ weightSetId: set.id, status: "submitted" });
  });

  it("scores an evaluated window, with a line per uid and a match, and marks it scored", async () => {
    await seedEvaluatedWindow();
    const scored = await scoreEvaluatedWindows(ctx());
    expect(scored).toEqual([{ window: W, lines: 7, matchSize: 3, weightSetId: expect.any(Number) }]);
    expect((await db.select().from(windows).where(eq(windows.window, W)).get())?.state).toBe("scored");
  });

  it("scores evaluated uids by their gradient, improving ones above zero, one worse than random at or below it", async () => {
    const lines = await scoredWindow();
    expect([...lines.keys()].sort()).toEqual([0, 2, 3, 4, 5, 6, 7]);
    expect(lines.get(2)).toMatchObject({
      outcome: "evaluated",
      indicator: 1,
      bma: 0.05,
      stepsBehind: 0,
      syncScore: 1,
      matched: true,
    });
    expect(lines.get(2)?.gradientScore).toBeCloseTo(0.02, 12);
    expect(lines.get(2)?.finalScore).toBeGreaterThan(lines.get(3)?.finalScore as number);
    expect(lines.get(3)?.finalScore).toBeGreaterThan(0);
    expect(lines.get(7)?.finalScore).toBeLessThanOrEqual(0); // own improved less than random: BMA < 0
  });

  it("gives invalid, copied, unevaluated and refused uids lines with their codes and penalties", async () => {
    const lines = await scoredWindow();
    expect(lines.get(4)).toMatchObject({ outcome: "invalid", code: "INDEX_OUT_OF_RANGE" });
    expect(lines.get(5)).toMatchObject({ outcome: "copied", code: "COPY_NEAR" });
    expect(lines.get(5)?.penalties[0]).toMatchObject({ kind: "copy_high" });
    expect(lines.get(6)).toMatchObject({ outcome: "not_evaluated", penalties: [] });
    expect(lines.get(0)).toMatchObject({ outcome: "refused", code: "UPLOAD_TOO_LATE" });
    expect(lines.get(0)?.penalties[0]).toMatchObject({ kind: "late" });
  });

  it("keeps each uid's state from its line", async () => {
    const lines = await scoredWindow();
    const states = new Map((await db.select().from(uidStates)).map((s) => [s.uid, s]));
    expect(states.get(2)).toMatchObject({
      bma: 0.05,
      finalScore: lines.get(2)?.finalScore,
      mu: lines.get(2)?.mu,
      updatedWindow: W,
    });
  });

  it("reads θ_S's parameter sample from R2 with ranged gets, and keeps it", async () => {
    await scoredWindow();
    const sample = await db.select().from(checkpointSamples).where(eq(checkpointSamples.window, 0)).get();
    expect(sample?.sample).toEqual(thetaSample);
    expect(sample?.stepEma).toBeNull();
  });

  it("makes the weights window's set: pending, burn first, summing to 1", async () => {
    await scoredWindow();
    const set = await db.select().from(weightSets).where(eq(weightSets.window, W)).get();
    expect(set).toMatchObject({ status: "pending", uids: [1, 2, 3], gather: [2, 3], reserve: [], versionKey: "0" });
    expect(set?.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(set?.weights[0]).toBe(hp.weights.burn_rate);
    expect(Math.max(...(set?.values ?? []))).toBe(65535);
  });

  it("waits while an earlier window is still being evaluated, and makes no set off the weights cadence", async () => {
    await evaluatedWindow(4100, "evaluating");
    await evaluatedWindow(4101);
    expect(await scoreEvaluatedWindows(ctx())).toEqual([]);
    await db.update(windows).set({ state: "evaluated" }).where(eq(windows.window, 4100));
    const scored = await scoreEvaluatedWindows(ctx());
    expect(scored.map((s) => [s.window, s.weightSetId === null])).toEqual([
      [4100, false],
      [4101, true],
    ]);
  });
});

describe("setting weights", () => {
  const pendingSet = (window: number, uids = [1, 2, 3], values = [65535, 43690, 21845]) =>
    insertPendingSet({ window, netuid: 2, uids, values, gather: uids.slice(1), atMs: clockMs });
  const setOf = weightSetOf;
  const events = weightSetEventNames;

  it("submits set_weights, finds it in the next block, and the chain holds the vector", async () => {
    const set = await pendingSet(5000);
    expect(await advanceWeights(ctx())).toMatchObject({ weightSetId: set.id, status: "submitted" });
    expect(await advanceWeights(ctx())).toMatchObject({
      status: "submitted",
      step: expect.stringMatching(/not in blocks/),
    });
    chain.headNumber += 1;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "set" });
    expect(await setOf(set.id)).toMatchObject({ status: "set", mode: "direct", setBlock: 1001, attempts: 0 });
    expect(await chain.weights(2, 0)).toEqual([
      [1, 65535],
      [2, 43690],
      [3, 21845],
    ]);
    expect(await events(set.id)).toEqual(["submitted", "set"]);
    expect(chain.txs[0]?.hotkey).toBe(validator.address);
  });

  it("counts set_weights the node went silent on after taking it as submitted: found in the next block, sent once", async () => {
    const set = await pendingSet(5000);
    chain.silentAfterNextSubmit = true;
    expect(await advanceWeights(ctx())).toMatchObject({ weightSetId: set.id, status: "submitted" });
    chain.headNumber += 1;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "set" });
    expect(chain.txs).toHaveLength(1);
    expect(await events(set.id)).toEqual(["submitted", "set"]);
  });

  it("keeps a set pending while the node does not answer before taking it, and sends it once it does", async () => {
    const set = await pendingSet(5000);
    const outage = new ChainOutage(chain);
    const downCtx = workerContext(
      { ...env, VALIDATOR_HOTKEY_SECRET: VALIDATOR_SECRET } as Env,
      () => outage.client,
      () => clockMs,
    );
    outage.down = true;
    expect(await advanceWeights(downCtx)).toMatchObject({
      weightSetId: set.id,
      status: "pending",
      step: "refused: CHAIN_UNAVAILABLE",
    });
    expect(await setOf(set.id)).toMatchObject({ status: "pending", lastErrorCode: "CHAIN_UNAVAILABLE" });
    expect(chain.txs).toEqual([]);
    outage.down = false;
    clockMs += backoffMs(1, hp.window.block_time_ms, hp.window.blocks_per_window * hp.window.block_time_ms);
    expect(await advanceWeights(downCtx)).toMatchObject({ status: "submitted" });
    chain.headNumber += 1;
    expect(await advanceWeights(downCtx)).toMatchObject({ status: "set" });
    expect(chain.txs).toHaveLength(1);
  });

  it("keeps a refused set pending with its error and retries after a backoff", async () => {
    const set = await pendingSet(5002);
    chain.refuseNext = chainRefusal("1010: Invalid Transaction: Custom error: 3", 218);
    expect(await advanceWeights(ctx())).toMatchObject({ status: "pending", step: "refused: VALIDATOR_STAKE_LOW" });
    const after = await setOf(set.id);
    expect(after).toMatchObject({
      status: "pending",
      attempts: 1,
      lastErrorCode: "VALIDATOR_STAKE_LOW",
      values: set.values,
    });
    expect(after?.nextAttemptAtMs).toBe(clockMs + backoffMs(1, 3000, hp.window.blocks_per_window * 3000));
    expect(await advanceWeights(ctx())).toMatchObject({ step: "waiting for the next attempt" });
    clockMs += 10_000;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "submitted" });
    chain.headNumber += 1;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "set" });
    expect(await events(set.id)).toEqual(["failed", "submitted", "set"]);
  });

  it("maps a failure inside the block and leaves the set pending", async () => {
    const set = await pendingSet(5004);
    await advanceWeights(ctx());
    chain.settings.versionKey = 7n; // raised by the owner after the check, before the block
    chain.headNumber += 1;
    expect(await advanceWeights(ctx())).toMatchObject({
      status: "pending",
      step: expect.stringMatching(/WEIGHTS_VERSION_KEY_LOW/),
    });
    expect(await setOf(set.id)).toMatchObject({ lastErrorCode: "WEIGHTS_VERSION_KEY_LOW", attempts: 1 });
    // The next attempt is refused before it is sent: the version key is read first.
    clockMs += 60_000;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "pending", step: "refused: WEIGHTS_VERSION_KEY_LOW" });
    expect(chain.txs).toHaveLength(1);
  });

  it("waits out the rate limit without counting it as a failure", async () => {
    const first = await pendingSet(5006);
    await advanceWeights(ctx());
    chain.headNumber += 1;
    await advanceWeights(ctx());
    expect((await setOf(first.id))?.status).toBe("set");
    chain.settings.rateLimitBlocks = 10;
    const second = await pendingSet(5008);
    chain.headNumber += 2;
    // LastUpdate 1001 + 10: the first block that may include it is 1011, so the head must reach 1010.
    expect(await advanceWeights(ctx())).toMatchObject({ weightSetId: second.id, step: "rate limited for 7 blocks" });
    expect(await setOf(second.id)).toMatchObject({
      status: "pending",
      mode: "direct",
      attempts: 0,
      nextAttemptAtMs: clockMs + 7 * 3000,
    });
    expect(await events(second.id)).toEqual(["rate_limited"]);
    clockMs += 7 * 3000;
    chain.headNumber += 7;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "submitted" });
  });

  it("commits, waits for the reveal epoch computed from chain state, reveals once, and the chain holds the vector", async () => {
    chain.settings.commitRevealEnabled = true;
    chain.settings.tempo = 10; // netuid 2: epoch 91 is blocks 998…1008, the reveal epoch 92 is 1009…1019
    const set = await pendingSet(5010);
    expect(await advanceWeights(ctx())).toMatchObject({ status: "committing" });
    chain.headNumber += 1;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "committed" });
    expect(await advanceWeights(ctx())).toMatchObject({
      status: "committed",
      step: "waiting for block 1008 to reveal",
    });
    expect(await setOf(set.id)).toMatchObject({ nextAttemptAtMs: clockMs + 7 * 3000 });
    expect(await advanceWeights(ctx())).toMatchObject({ status: "committed", step: "waiting to reveal" });
    clockMs += 7 * 3000;
    chain.headNumber = 1008;
    expect(await advanceWeights(ctx())).toMatchObject({
      status: "revealing",
      step: "reveal submitted (reveal epoch 92, until block 1019)",
    });
    chain.headNumber += 1;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "set" });
    const after = await setOf(set.id);
    expect(after).toMatchObject({ mode: "hash-commit-reveal", commitBlock: 1001, setBlock: 1009, attempts: 0 });
    expect(after?.salt).toHaveLength(8);
    expect(await chain.weights(2, 0)).toHaveLength(3);
    expect(await events(set.id)).toEqual(["commit_submitted", "committed", "reveal_wait", "reveal_submitted", "set"]);
    expect(chain.txs.map((t) => t.kind)).toEqual(["commit", "reveal"]);
  });

  it("never sends a reveal after its reveal epoch: the commit is given up and made anew", async () => {
    chain.settings.commitRevealEnabled = true;
    chain.settings.tempo = 10;
    const set = await pendingSet(5011);
    await advanceWeights(ctx());
    chain.headNumber += 1;
    await advanceWeights(ctx()); // committed in block 1001: reveal epoch 92 ends at block 1019
    chain.headNumber = 1019; // a reveal sent now lands in 1020, epoch 93
    clockMs += 60_000;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "pending", step: "reveal refused: REVEAL_EXPIRED" });
    expect(await setOf(set.id)).toMatchObject({ lastErrorCode: "REVEAL_EXPIRED", attempts: 1 });
    expect(chain.txs.map((t) => t.kind)).toEqual(["commit"]);
    clockMs += 60_000;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "committing" });
    expect(chain.txs.map((t) => t.kind)).toEqual(["commit", "commit"]);
  });

  it("takes a validator the chain would take: root stake × TaoWeight counts, the subnet owner is exempt", async () => {
    const own = chain.neurons.find((n) => n.hotkey === validator.address)?.stakeRao ?? 0n;
    chain.settings.minStakeRao = own + 1000n;
    const low = await pendingSet(5030);
    expect(await advanceWeights(ctx())).toMatchObject({ status: "pending", step: "refused: VALIDATOR_STAKE_LOW" });
    expect((await setOf(low.id))?.lastErrorMessage).toMatch(/below StakeThreshold/);
    // TaoWeight ½ of u64::MAX on 4000 root: 2000 more than alpha alone.
    chain.settings.rootStakeRao = 4000n;
    chain.settings.taoWeight = (1n << 63n) - 1n;
    clockMs += 60_000;
    expect(await advanceWeights(ctx())).toMatchObject({ status: "submitted" });
    chain.headNumber += 1;
    await advanceWeights(ctx());
    // The subnet owner's hotkey with no stake at all; and a hotkey with parents is left to the pool.
    chain.settings.rootStakeRao = 0n;
    chain.settings.subnetOwnerHotkey = validator.address;
    await pendingSet(5032);
    expect(await advanceWeights(ctx())).toMatchObject({ status: "submitted" });
    chain.headNumber += 1;
    await advanceWeights(ctx());
    chain.settings.subnetOwnerHotkey = null;
    chain.settings.hasParentKeys = true;
    await pendingSet(5034);
    expect(await advanceWeights(ctx())).toMatchObject({ status: "submitted" });
  });

  it("supersedes older pending sets once nothing is in flight, and keeps them on record", async () => {
    const old = await pendingSet(5012);
    const mid = await pendingSet(5014);
    const newest = await pendingSet(5016);
    expect(await advanceWeights(ctx())).toMatchObject({ weightSetId: newest.id, status: "submitted" });
    expect((await setOf(old.id))?.status).toBe("superseded");
    expect((await setOf(mid.id))?.status).toBe("superseded");
    expect(await events(old.id)).toEqual(["superseded"]);
  });

  it("drops a transaction that never lands once its era ends, and tries again", async () => {
    const set = await pendingSet(5018);
    await advanceWeights(ctx());
    chain.txs.length = 0; // the pool lost it
    chain.headNumber += 70;
    expect(await advanceWeights(ctx())).toMatchObject({
      status: "submitted",
      step: expect.stringMatching(/not in blocks/),
    });
    expect(await advanceWeights(ctx())).toMatchObject({ status: "pending", step: "dropped" });
    expect(await setOf(set.id)).toMatchObject({ lastErrorCode: "TX_DROPPED", attempts: 1 });
  });

  it("follows a transaction already in flight without the key", async () => {
    const set = await pendingSet(5022);
    await advanceWeights(ctx());
    chain.headNumber += 1;
    expect(await advanceWeights(ctx(""))).toMatchObject({ weightSetId: set.id, status: "set" });
  });

  it("keeps weights pending, with one clear error, when no hotkey is configured or it is unusable", async () => {
    const set = await pendingSet(5020);
    expect(await advanceWeights(ctx(""))).toMatchObject({ status: "pending", step: "no usable validator hotkey" });
    clockMs += 60_000;
    expect(await advanceWeights(ctx(""))).toMatchObject({ status: "pending" });
    expect(await setOf(set.id)).toMatchObject({ status: "pending", lastErrorCode: "CONFIG_INVALID", attempts: 1 });
    expect((await setOf(set.id))?.lastErrorMessage).toMatch(/no VALIDATOR_HOTKEY_SECRET/);
    // A malformed secret: the same error, and the message never quotes it.
    await db.update(weightSets).set({ lastErrorCode: null }).where(eq(weightSets.id, set.id));
    clockMs += 60_000;
    expect(await advanceWeights(ctx("twelve words that are not a mnemonic"))).toMatchObject({ status: "pending" });
    const after = await setOf(set.id);
    expect(after).toMatchObject({ lastErrorCode: "CONFIG_INVALID", attempts: 2 });
    expect(after?.lastErrorMessage).not.toMatch(/twelve/);
    expect(await events(set.id)).toEqual(["failed", "failed"]);
    expect(chain.txs).toHaveLength(0);
  });
});

describe("the scores and weights API", () => {
  const W = 4300;
  let app: ReturnType<typeof testApp>;

  /** Windows W − 1 (uid 2) and W (uids 2, 3, and 7 whose own samples improve less) scored; W is a weights window. */
  beforeEach(async () => {
    await evaluatedWindow(W - 1);
    await evaluation(W - 1, 2, await submission(W - 1, 2, "valid"), 0.02, 0.04);
    await evaluatedWindow(W);
    await evaluation(W, 2, await submission(W, 2, "valid"), 0.03, 0.05);
    await evaluation(W, 3, await submission(W, 3, "valid"), 0.01, 0.02);
    await evaluation(W, 7, await submission(W, 7, "valid"), 0.02, 0.01);
    await scoreEvaluatedWindows(ctx());
    app = testApp(chain);
  });

  it("serves a window's lines", async () => {
    const window = (await (await app.call(`/v1/scores/${W}`)).json()) as { scores: { uid: number; outcome: string }[] };
    expect(window.scores.filter((l) => l.outcome === "evaluated").map((l) => l.uid)).toEqual([2, 3, 7]);
  });

  it("serves a uid's history, newest first, up to the limit", async () => {
    const history = (await (await app.call("/v1/miners/2/scores?limit=2")).json()) as {
      scores: { window: number; final_score: number; penalties: unknown[] }[];
    };
    expect(history.scores[0]).toMatchObject({ window: W, penalties: [] });
    expect(history.scores).toHaveLength(2);
    expect(history.scores[1]?.window).toBeLessThan(W);
  });

  it("previews the latest weights: the burn uid first, summing to 1, over the latest set's uids", async () => {
    const { preview } = (await (await app.call("/v1/weights/latest")).json()) as {
      preview: { window: number; weights: { uid: number; tier: string; weight: number; value: number }[] };
    };
    expect(preview.window).toBe(W);
    expect(preview.weights[0]).toMatchObject({ uid: 1, tier: "burn", weight: hp.weights.burn_rate, value: 65535 });
    expect(preview.weights.map((w) => w.weight).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const set = await db.select().from(weightSets).where(eq(weightSets.window, W)).get();
    expect(preview.weights.map((w) => w.uid).sort((a, b) => a - b)).toEqual(set?.uids);
  });

  it("says in the preview why each uid is paid, or not", async () => {
    const { preview } = (await (await app.call("/v1/weights/latest")).json()) as { preview: WeightsPreviewJson };
    const two = preview.weights.find((w) => w.uid === 2);
    expect(two?.explanation).toMatch(/^final [0-9.]+ = rating [0-9.]+ × pay [0-9.]+ × sync 1\.000; own-data evidence/);
    // uid 3 ranked last of its first match (rating below 0); uid 7's own samples improved less than random ones
    const [three, seven] = preview.unpaid;
    expect(preview.unpaid.map((u) => u.uid)).toEqual([3, 7]);
    expect(three?.explanation).toMatch(/^unpaid: rating μ − 3σ -[0-9.]+ ≤ 0/);
    expect(seven?.evidence).toBe(-hp.scoring.evidence_z_clip);
    expect(seven?.explanation).toMatch(/^unpaid: own-data evidence -5\.00 ≤ 3\.5/);
  });

  it("serves a uid: its evidence (Stouffer's Z of its windows' statistics), pay factor, explanation and latest lines", async () => {
    const { miner: m } = (await (await app.call("/v1/miners/2")).json()) as { miner: MinerJson };
    // Both windows' statistics are past the clip (own − random = 0.02, spread 0.001): 5 each.
    const { evidence_decay: l, evidence_z_clip: z, evidence_pay_from: from, evidence_pay_full: full } = hp.scoring;
    const evidence = (l * z + z) / Math.sqrt(l * l + 1);
    expect(m.state?.evidence).toBeCloseTo(evidence, 12);
    expect(m.state?.pay_factor).toBeCloseTo((evidence - from) / (full - from), 12);
    expect(m.state?.explanation).toContain(`own-data evidence ${evidence.toFixed(2)} earns`);
    expect(m.recent.map((r) => [r.window, r.evidence])).toEqual([
      [W, m.state?.evidence],
      [W - 1, z],
    ]);
    expect(m.weight).toMatchObject({ window: W, share: expect.any(Number) });
    expect(m.weight?.share).toBeGreaterThan(0);
  });

  it("lists the weight sets, newest first", async () => {
    const sets = (await (await app.call("/v1/weights/sets?limit=1")).json()) as { weight_sets: { window: number }[] };
    expect(sets.weight_sets.map((s) => s.window)).toEqual([W]);
  });

  it("answers bad parameters with 400 and unknown windows with 404", async () => {
    const app = testApp(chain);
    const code = async (path: string) => {
      const res = await app.call(path);
      return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    };
    expect(await code("/v1/scores/12x")).toEqual([400, "BAD_REQUEST"]);
    expect(await code("/v1/scores/999999")).toEqual([404, "NOT_FOUND"]);
    expect(await code("/v1/miners/999")).toEqual([404, "NOT_FOUND"]);
    expect(await code("/v1/miners/two")).toEqual([400, "BAD_REQUEST"]);
    expect(await code("/v1/miners/2/scores?limit=0")).toEqual([400, "BAD_REQUEST"]);
    expect(await code("/v1/weights/sets?limit=1000")).toEqual([400, "BAD_REQUEST"]);
  });
});
