// The weight-set state machine (advanceWeights) on timelocked weights, in workerd with the real D1,
// over cron-like ticks, through the real chain client against the fake finney node (spec-393
// metadata; started by the project's global setup): pending → commit → included → reveal epoch →
// recorded as revealed with the weights readable; a commit the chain drops (no pulse) recorded as
// dropped and the next set going on; pool refusals as their codes on the set. The validator's
// clock is set so that the reveal round comes out as a round the fake node has a real pulse for
// (1000) or lacks (2000).

import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, inject, it } from "vitest";
import { weightSets } from "../../schema/db/index.ts";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { PolkadotChainClient } from "../../workers/chain/polkadot-chain-client.ts";
import { workerContext } from "../../workers/context.ts";
import { advanceWeights, type WeightsReport } from "../../workers/weights/weight-submission.ts";
import { type FakeFinneyConfig, FakeFinneyControl, type FakeSubnet } from "../shared/support/fake-finney-control.ts";
import { clockForRound } from "./support/drand-clock.ts";
import { insertPendingSet, weightSetEventNames, weightSetOf } from "./support/weight-sets.ts";
import { db } from "./support/world.ts";

const base = inject("fakeFinneyUrl");
if (!base)
  console.warn(
    `SKIPPED the timelocked weight-set state machine in workerd: finney's metadata is absent at ${inject("fakeFinneyMetadata")} (CI has it; set FINNEY_METADATA)`,
  );

const NETUID = 3;
const SECRET = "//Alice";
const validator = hotkeySignerFromSecret(SECRET);
const miner = hotkeySignerFromSecret("//Bob");
const THRESHOLD = 1_000_000n;

describe.skipIf(!base)("the weight-set state machine on timelocked weights (fake finney node, real D1)", () => {
  const opened: { control: FakeFinneyControl; client: PolkadotChainClient }[] = [];
  let clockMs = 0;

  afterEach(async () => {
    for (const { control, client } of opened.splice(0)) {
      await client.disconnect();
      await control.close();
    }
  });

  async function start(
    opts: { subnet?: Partial<FakeSubnet>; config?: Partial<FakeFinneyConfig>; vars?: Record<string, string> } = {},
  ) {
    const control = await FakeFinneyControl.create(base, {
      stakeThreshold: THRESHOLD,
      ...opts.config,
      subnets: [
        {
          netuid: NETUID,
          tempo: 10,
          neurons: [{ hotkey: validator.address, alphaStake: THRESHOLD }, { hotkey: miner.address }],
          ...opts.subnet,
        },
      ],
    });
    const client = new PolkadotChainClient(control.url);
    opened.push({ control, client });
    const ctx = () =>
      workerContext(
        { ...env, NETUID: String(NETUID), VALIDATOR_HOTKEY_SECRET: SECRET, ...opts.vars } as Env,
        () => client,
        () => clockMs,
      );
    return { control, client, tick: (): Promise<WeightsReport> => advanceWeights(ctx()) };
  }

  /** Sets the validator's clock so that a commit sent at the current head is encrypted to `round`; returns the reveal epoch's start. */
  async function clockFor(client: PolkadotChainClient, round: number): Promise<number> {
    const { nowSeconds, plan } = clockForRound(await client.timelockState(NETUID), NETUID, round);
    clockMs = nowSeconds * 1000;
    return plan.revealEpochStartBlock;
  }

  const pendingSet = (window: number, uids: number[], values: number[]) =>
    insertPendingSet({ window, netuid: NETUID, uids, values, gather: [], atMs: clockMs });
  const setOf = weightSetOf;
  const events = weightSetEventNames;
  /** A cron tick a minute later (the clock moves past any wait the set recorded). */
  const later = () => {
    clockMs += 10 * 60_000;
  };

  it("commits, follows the commit to its bucket, and records the chain's reveal with the weights readable", async () => {
    const { control, client, tick } = await start();
    const revealStart = await clockFor(client, 1000);
    const set = await pendingSet(7000, [0, 1], [100, 50]);

    expect(await tick()).toMatchObject({ weightSetId: set.id, status: "committing" });
    expect(await setOf(set.id)).toMatchObject({
      mode: "timelocked",
      revealRound: 1000,
      revealEpochStartBlock: revealStart,
    });
    expect((await control.info()).submissions.at(-1)).toMatchObject({
      call: "subtensorModule.commitTimelockedWeights",
      rejected: null,
    });
    await control.produceBlocks(1);
    expect(await tick()).toMatchObject({ status: "timelocked", step: "timelocked commit on chain" });
    later();
    expect(await tick()).toMatchObject({ status: "timelocked", step: expect.stringMatching(/^waiting \d+ blocks/) });
    expect(await setOf(set.id)).toMatchObject({ commitEpoch: 0 });
    expect(await client.weights(NETUID, 0)).toEqual([]);

    await control.advanceTo(revealStart);
    later();
    expect(await tick()).toMatchObject({ status: "set", step: "revealed" });
    expect(await setOf(set.id)).toMatchObject({ status: "set", setBlock: revealStart, lastErrorCode: null });
    expect(await client.weights(NETUID, 0)).toEqual([
      [0, 65535],
      [1, 32768],
    ]);
    expect(await events(set.id)).toEqual(["commit_submitted", "committed", "commit_located", "revealed"]);
    expect(await tick()).toMatchObject({ weightSetId: null, step: "nothing to set" });
  });

  it("records a commit the chain dropped (no pulse in its reveal epoch), and the next set goes on", async () => {
    const { control, client, tick } = await start({ subnet: { weightsSetRateLimit: 20 } });
    await clockFor(client, 2000); // round 2000's pulse never reaches the chain
    const dropped = await pendingSet(7100, [0, 1], [1, 1]);
    expect(await tick()).toMatchObject({ status: "committing" });
    await control.produceBlocks(1);
    expect(await tick()).toMatchObject({ status: "timelocked" });
    const revealStart = (await setOf(dropped.id))?.revealEpochStartBlock as number;

    await control.advanceTo(revealStart + 2);
    later();
    // Kept in its bucket while the pulse is missing: not dropped yet.
    expect(await tick()).toMatchObject({
      status: "timelocked",
      step: `in its bucket at block ${revealStart + 2}: not revealed yet`,
    });
    await control.advanceTo(await control.nextEpochStart(NETUID));
    later();
    expect(await tick()).toMatchObject({ status: "dropped", step: "dropped by the chain" });
    expect(await setOf(dropped.id)).toMatchObject({ status: "dropped", lastErrorCode: "WEIGHTS_REVEAL_DROPPED" });
    expect(await events(dropped.id)).toEqual(["commit_submitted", "committed", "commit_located", "dropped"]);

    // The next set waits out the rate limit (the dropped commit moved LastUpdate to block 2: 2 + 20 = 22),
    // then commits to round 1000, whose pulse is on chain, and is revealed.
    const next = await pendingSet(7102, [1], [9]);
    expect(await tick()).toMatchObject({ weightSetId: next.id, status: "pending", step: "rate limited for 3 blocks" });
    await control.advanceTo(21);
    const revealNext = await clockFor(client, 1000);
    await db.update(weightSets).set({ nextAttemptAtMs: clockMs }).where(eq(weightSets.id, next.id));
    expect(await tick()).toMatchObject({ weightSetId: next.id, status: "committing" });
    await control.produceBlocks(1);
    expect(await tick()).toMatchObject({ status: "timelocked" });
    await control.advanceTo(revealNext);
    later();
    expect(await tick()).toMatchObject({ weightSetId: next.id, status: "set", step: "revealed" });
    expect(await client.weights(NETUID, 0)).toEqual([[1, 65535]]);
  });

  it("records each pool refusal as its code on the set, which stays pending", async () => {
    const { control, client, tick } = await start();
    await clockFor(client, 1000);
    const set = await pendingSet(7200, [0, 1], [1, 1]);
    const refusals: [number, string][] = [
      [0, "COLDKEY_SWAP_PENDING"],
      [6, "WEIGHTS_RATE_LIMITED"],
      [21, "COLDKEY_SWAP_PENDING"],
      [255, "WEIGHTS_REJECTED"],
      [99, "WEIGHTS_REJECTED"],
    ];
    for (const [custom, code] of refusals) {
      await control.injectPoolError(custom);
      await clockFor(client, 1000);
      await db.update(weightSets).set({ nextAttemptAtMs: clockMs }).where(eq(weightSets.id, set.id));
      expect(await tick(), `custom ${custom}`).toMatchObject({ status: "pending", step: `refused: ${code}` });
      expect(await setOf(set.id), `custom ${custom}`).toMatchObject({ lastErrorCode: code });
    }
    expect(await setOf(set.id)).toMatchObject({ attempts: refusals.length });

    // Refusals took no nonce and lost nothing: the set goes through once the pool takes it.
    await clockFor(client, 1000);
    await db.update(weightSets).set({ nextAttemptAtMs: clockMs }).where(eq(weightSets.id, set.id));
    expect(await tick()).toMatchObject({ status: "committing" });
    await control.produceBlocks(1);
    expect(await tick()).toMatchObject({ status: "timelocked" });
    expect(await events(set.id)).toEqual([...refusals.map(() => "failed"), "commit_submitted", "committed"]);
  });

  it("refuses before sending what the chain would refuse: a round below LastStoredRound, too little stake", async () => {
    // (Fresh nodes: the client caches storage read at a block, so a value must be there from the start.)
    const behind = await start({ config: { lastStoredRound: 1001 } });
    await clockFor(behind.client, 1000);
    const late = await pendingSet(7250, [0, 1], [1, 1]);
    expect(await behind.tick()).toMatchObject({ status: "pending", step: "refused: REVEAL_ROUND_INVALID" });
    expect(await setOf(late.id)).toMatchObject({ lastErrorCode: "REVEAL_ROUND_INVALID" });
    expect((await behind.control.info()).submissions).toEqual([]);
    await db.update(weightSets).set({ status: "superseded" }).where(eq(weightSets.id, late.id));

    // alpha + TaoWeight × root below StakeThreshold, and not the owner's hotkey.
    const poor = await start({
      subnet: { neurons: [{ hotkey: validator.address, alphaStake: THRESHOLD - 1n }, { hotkey: miner.address }] },
    });
    await clockFor(poor.client, 1000);
    const low = await pendingSet(7260, [0, 1], [1, 1]);
    expect(await poor.tick()).toMatchObject({ status: "pending", step: "refused: VALIDATOR_STAKE_LOW" });
    expect((await setOf(low.id))?.lastErrorMessage).toMatch(/below StakeThreshold 1000000/);
    expect((await poor.control.info()).submissions).toEqual([]);
  });

  it("commits to the operator's mechanism (WEIGHTS_MECHANISM_ID) and finds the chain's reveal there", async () => {
    const { control, client, tick } = await start({
      subnet: { mechanismCount: 2 },
      vars: { WEIGHTS_MECHANISM_ID: "1" },
    });
    const revealStart = await clockFor(client, 1000);
    const set = await pendingSet(7400, [1], [7]);
    expect(await tick()).toMatchObject({ weightSetId: set.id, status: "committing" });
    expect((await control.info()).submissions.at(-1)).toMatchObject({
      call: "subtensorModule.commitTimelockedMechanismWeights",
    });
    await control.produceBlocks(1);
    expect(await tick()).toMatchObject({ status: "timelocked" });
    await control.advanceTo(revealStart);
    later();
    expect(await tick()).toMatchObject({ status: "set", step: "revealed" });
    expect(await client.weights(NETUID, 0, 1)).toEqual([[1, 65535]]);
    expect(await client.weights(NETUID, 0)).toEqual([]);
  });

  it("exempts the subnet owner's hotkey from the stake threshold, as the chain does", async () => {
    const { control, client, tick } = await start({
      subnet: {
        ownerHotkey: validator.address,
        neurons: [{ hotkey: validator.address, alphaStake: 0n }, { hotkey: miner.address }],
      },
    });
    await clockFor(client, 1000);
    await pendingSet(7300, [1], [1]);
    expect(await tick()).toMatchObject({ status: "committing" });
    expect((await control.info()).submissions.at(-1)).toMatchObject({ rejected: null });
  });
});
