// Timelocked weights through the real chain client (PolkadotChainClient: HttpProvider, signing in
// pure JS) inside workerd, against a fake finney node that runs in Node on the spec-393 metadata
// (test/node/support/fake-finney/, started by the project's global setup): commit, the chain's
// reveal in the reveal epoch, the weights and the reveal event read back; each pool refusal and
// dispatch error as its catalog code; a commit the chain drops, seen as dropped.

import { u8aToHex } from "@polkadot/util";
import { blake2AsHex, encodeAddress } from "@polkadot/util-crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import { EdgeError } from "../../schema/errors.ts";
import { type HotkeySigner, hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { encryptCommit } from "../../schema/weights/timelock-commit.ts";
import { encodeWeightsTlockPayload } from "../../schema/weights/tlock-payload.ts";
import type { SubmittedTx, TimelockState } from "../../workers/chain/chain-client.ts";
import { chainRefusal } from "../../workers/chain/chain-errors.ts";
import { PolkadotChainClient } from "../../workers/chain/polkadot-chain-client.ts";
import { type FakeFinneyConfig, FakeFinneyControl, type FakeSubnet } from "../shared/support/fake-finney-control.ts";
import { type CommitPlan, clockForRound } from "./support/drand-clock.ts";

const base = inject("fakeFinneyUrl");
if (!base)
  console.warn(
    `SKIPPED timelocked weights in workerd: finney's metadata is absent at ${inject("fakeFinneyMetadata")} (CI has it; set FINNEY_METADATA)`,
  );

const NETUID = 3;
const validator = hotkeySignerFromSecret("//Alice");
const miner = hotkeySignerFromSecret("//Bob");
const poor = hotkeySignerFromSecret("//Charlie");
const THRESHOLD = 1_000_000n;

/** A 32-byte account id made of one repeated byte pair, for uids that never sign. */
const accountOf = (uid: number) => Uint8Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? uid & 0xff : 0xee));

describe.skipIf(!base)("timelocked weights: the chain client in workerd against a fake finney node", () => {
  const opened: { control: FakeFinneyControl; client: PolkadotChainClient }[] = [];

  afterEach(async () => {
    for (const { control, client } of opened.splice(0)) {
      await client.disconnect();
      await control.close();
    }
  });

  /** A fresh node: netuid 3 (tempo 10) with the validator (uid 0), a miner (1) and a hotkey below the stake threshold (2). */
  async function start(opts: { subnet?: Partial<FakeSubnet>; config?: Partial<FakeFinneyConfig> } = {}) {
    const subnet: FakeSubnet = {
      netuid: NETUID,
      tempo: 10,
      neurons: [
        { hotkey: validator.address, alphaStake: THRESHOLD },
        { hotkey: miner.address },
        { hotkey: poor.address, alphaStake: THRESHOLD - 1n },
      ],
      ...opts.subnet,
    };
    const control = await FakeFinneyControl.create(base, {
      stakeThreshold: THRESHOLD,
      ...opts.config,
      subnets: [subnet],
    });
    const client = new PolkadotChainClient(control.url);
    opened.push({ control, client });
    return { control, client };
  }

  /**
   * The reveal round for a commit sent now, with the validator's clock set so that it comes out as
   * `round`: drand's only real pulses offline are those of rounds 1000 and 2000.
   */
  function planFor(state: TimelockState, round: number): CommitPlan {
    return clockForRound(state, NETUID, round).plan;
  }

  /** Encrypts the weights to `round` and hands the commit to the pool, as the validator's hotkey `signer`. */
  async function commit(
    client: PolkadotChainClient,
    signer: HotkeySigner,
    w: { uids: number[]; values: number[]; round: number; mecid?: number; version?: number; hotkey?: Uint8Array },
  ): Promise<{ tx: SubmittedTx; commitHex: string }> {
    const payload = encodeWeightsTlockPayload({
      hotkey: w.hotkey ?? signer.publicKey,
      uids: w.uids,
      values: w.values,
      versionKey: 0n,
    });
    const commitHex = u8aToHex(encryptCommit(payload, w.round));
    const tx = await client.submitTimelockedCommit(signer, {
      netuid: NETUID,
      mecid: w.mecid,
      commitHex,
      revealRound: w.round,
      commitRevealVersion: w.version ?? 4,
    });
    return { tx, commitHex };
  }

  /** The EdgeError a promise rejects with. */
  async function refusal(promise: Promise<unknown>): Promise<EdgeError> {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EdgeError);
    return error as EdgeError;
  }

  it("commits; the chain reveals the weights in the reveal epoch; weights and reveal event read back", async () => {
    const { control, client } = await start();
    const state = await client.timelockState(NETUID);
    expect(state).toMatchObject({
      netuidIndex: NETUID,
      commitRevealEnabled: true,
      timelockedCallAvailable: true,
      commitRevealVersion: 4,
      revealPeriodEpochs: 1,
      tempo: 10,
      lastStoredRound: 1000,
      mechanismCount: 1,
      epochs: { kind: "modulo" }, // spec 393 has neither the runtime API nor the stateful epoch storage
    });
    const plan = planFor(state, 1000);
    const { tx, commitHex } = await commit(client, validator, { uids: [0, 1], values: [100, 50], round: 1000 });
    expect((await control.info()).submissions.at(-1)).toMatchObject({
      call: "subtensorModule.commitTimelockedWeights",
      callIndex: [7, 113],
      txHash: tx.txHash,
      rejected: null,
    });

    await control.produceBlocks(1);
    const found = await client.findExtrinsic(tx.txHash, tx.atBlock + 1, 8);
    expect(found.outcome).toMatchObject({ kind: "success", block: { number: tx.atBlock + 1 } });
    const stored = await client.timelockedCommits(NETUID);
    expect(stored).toEqual([
      {
        epoch: 0,
        hotkey: validator.address,
        block: tx.atBlock + 1,
        commitHash: blake2AsHex(commitHex),
        revealRound: 1000,
      },
    ]);

    // Nothing before the reveal epoch, though the pulse of round 1000 is on chain all along.
    await control.advanceTo(plan.revealEpochStartBlock - 1);
    expect(await client.weights(NETUID, 0)).toEqual([]);
    const early = await client.findTimelockedReveal({ netuid: NETUID, hotkey: validator.address }, tx.atBlock + 1, 64);
    expect(early).toEqual({ revealedAt: null, searchedTo: plan.revealEpochStartBlock - 1 });

    await control.advanceTo(plan.revealEpochStartBlock);
    // Max-upscaled as the chain stores them: 50/100 of 65535 rounds half up.
    expect(await client.weights(NETUID, 0)).toEqual([
      [0, 65535],
      [1, 32768],
    ]);
    const reveal = await client.findTimelockedReveal(
      { netuid: NETUID, hotkey: validator.address },
      early.searchedTo + 1,
      64,
    );
    expect(reveal.revealedAt?.number).toBe(plan.revealEpochStartBlock);
    expect(await client.timelockedCommits(NETUID)).toEqual([]);
  });

  it("sends the mechanism variant when a mechanism id is given, and reads that mechanism's weights", async () => {
    const { control, client } = await start({ subnet: { mechanismCount: 2 } });
    const state = await client.timelockState(NETUID, 1);
    expect(state).toMatchObject({ netuidIndex: NETUID + 4096, timelockedCallAvailable: true, mechanismCount: 2 });
    const plan = planFor(state, 1000);
    const { tx } = await commit(client, validator, { uids: [1], values: [7], round: 1000, mecid: 1 });
    expect((await control.info()).submissions.at(-1)).toMatchObject({
      call: "subtensorModule.commitTimelockedMechanismWeights",
      callIndex: [7, 118],
    });
    await control.produceBlocks(1);
    expect((await client.findExtrinsic(tx.txHash, tx.atBlock + 1, 8)).outcome?.kind).toBe("success");
    expect(await client.timelockedCommits(NETUID, 1)).toHaveLength(1);
    expect(await client.timelockedCommits(NETUID)).toEqual([]);
    await control.advanceTo(plan.revealEpochStartBlock);
    expect(await client.weights(NETUID, 0, 1)).toEqual([[1, 65535]]);
    expect(await client.weights(NETUID, 0)).toEqual([]);
    const reveal = await client.findTimelockedReveal({ netuid: NETUID, mecid: 1, hotkey: validator.address }, 1, 64);
    expect(reveal.revealedAt?.number).toBe(plan.revealEpochStartBlock);
  });

  it("keeps a 256-uid commit under 5000 bytes on the wire, and the chain applies all 256", async () => {
    // Miners need no keys, only distinct accounts.
    const neurons = Array.from({ length: 256 }, (_, uid) =>
      uid === 0 ? { hotkey: validator.address, alphaStake: THRESHOLD } : { hotkey: encodeAddress(accountOf(uid), 42) },
    );
    const { control, client } = await start({ subnet: { neurons } });
    const plan = planFor(await client.timelockState(NETUID), 1000);
    const uids = neurons.map((_, uid) => uid);
    const { tx, commitHex } = await commit(client, validator, { uids, values: uids.map((u) => u + 1), round: 1000 });
    expect((commitHex.length - 2) / 2).toBe(1313); // 244 + a 1069-byte payload
    const sent = (await control.info()).submissions.at(-1);
    expect(sent?.rejected).toBeNull();
    expect(sent?.bytes).toBeGreaterThan(1313);
    expect(sent?.bytes).toBeLessThan(5000);
    await control.produceBlocks(1);
    expect((await client.findExtrinsic(tx.txHash, tx.atBlock + 1, 8)).outcome?.kind).toBe("success");
    await control.advanceTo(plan.revealEpochStartBlock);
    const weights = await client.weights(NETUID, 0);
    expect(weights).toHaveLength(256);
    expect(weights.at(-1)).toEqual([255, 65535]);
  });

  it("maps each pool refusal to its catalog code, its custom code in the details", async () => {
    const { control, client } = await start();
    const stake = await refusal(commit(client, poor, { uids: [0], values: [1], round: 1000 }));
    expect(stake.code).toBe("VALIDATOR_STAKE_LOW");
    expect(stake.details).toMatchObject({
      source: "pool",
      customCode: 1,
      error: "StakeAmountTooLow",
      specVersion: 393,
    });

    // drand's chain has moved past the round: the pool refuses it (the pure planner would not have sent it).
    await control.setStorage("drand", "lastStoredRound", [], 1001);
    const round = await refusal(commit(client, validator, { uids: [0], values: [1], round: 1000 }));
    expect(round.code).toBe("REVEAL_ROUND_INVALID");
    expect(round.details).toMatchObject({ customCode: 15, error: "InvalidRevealRound" });
    await control.setStorage("drand", "lastStoredRound", [], 1000);

    const injected: [number, string, string][] = [
      [0, "COLDKEY_SWAP_PENDING", "ColdkeyInSwapSchedule"],
      [6, "WEIGHTS_RATE_LIMITED", "RateLimitExceeded"],
      [21, "COLDKEY_SWAP_PENDING", "ColdkeySwapDisputed"],
      [255, "WEIGHTS_REJECTED", "BadRequest"],
    ];
    for (const [custom, code, name] of injected) {
      await control.injectPoolError(custom);
      const e = await refusal(commit(client, validator, { uids: [0], values: [1], round: 1000 }));
      expect(e.code, `custom ${custom}`).toBe(code);
      expect(e.details, `custom ${custom}`).toMatchObject({ customCode: custom, error: name });
    }
    await control.injectPoolError(99);
    const unknown = await refusal(commit(client, validator, { uids: [0], values: [1], round: 1000 }));
    expect(unknown.code).toBe("WEIGHTS_REJECTED");
    expect(unknown.message).toContain("1010: Invalid Transaction: Custom error: 99");

    // None of the refusals took a nonce: the next commit goes through.
    const { tx } = await commit(client, validator, { uids: [0], values: [1], round: 1000 });
    expect(tx.nonce).toBe(0);
    expect((await control.info()).submissions.map((s) => s.rejected?.data ?? null)).toEqual([
      "Custom error: 1",
      "Custom error: 15",
      "Custom error: 0",
      "Custom error: 6",
      "Custom error: 21",
      "Custom error: 255",
      "Custom error: 99",
      null,
    ]);
  });

  it("maps a commit that fails in its block to its catalog code", async () => {
    const { control, client } = await start({ subnet: { weightsSetRateLimit: 100 } });
    const outcome = async (tx: SubmittedTx) => {
      await control.produceBlocks(1);
      const found = await client.findExtrinsic(tx.txHash, tx.atBlock + 1, 8);
      if (found.outcome?.kind !== "failed") return found.outcome?.kind;
      return chainRefusal(found.outcome.error).code;
    };
    const wrongVersion = await commit(client, validator, { uids: [0], values: [1], round: 1000, version: 3 });
    expect(await outcome(wrongVersion.tx)).toBe("COMMIT_REVEAL_VERSION_MISMATCH");
    const first = await commit(client, validator, { uids: [0], values: [1], round: 1000 });
    expect(await outcome(first.tx)).toBe("success");
    // LastUpdate moved to the first commit's block: the next one is 1 block later, the limit 100.
    const tooSoon = await commit(client, validator, { uids: [0], values: [1], round: 1000 });
    expect(await outcome(tooSoon.tx)).toBe("WEIGHTS_RATE_LIMITED");
    expect((await control.info()).inclusions.map((i) => i.error)).toEqual([
      "IncorrectCommitRevealVersion",
      null,
      "CommittingWeightsTooFast",
    ]);

    const off = await start({ subnet: { commitRevealEnabled: false } });
    expect((await off.client.timelockState(NETUID)).commitRevealEnabled).toBe(false);
    const disabled = await commit(off.client, validator, { uids: [0], values: [1], round: 1000 });
    await off.control.produceBlocks(1);
    const found = await off.client.findExtrinsic(disabled.tx.txHash, disabled.tx.atBlock + 1, 8);
    expect(found.outcome).toMatchObject({ kind: "failed", error: "subtensorModule.CommitRevealDisabled" });
    expect(chainRefusal("subtensorModule.CommitRevealDisabled").code).toBe("COMMIT_REVEAL_DISABLED");
  });

  it("sees a commit the chain dropped: no pulse during its reveal epoch, then the bucket is gone", async () => {
    const { control, client } = await start();
    const plan = planFor(await client.timelockState(NETUID), 2000); // round 2000's pulse never arrives
    const { tx } = await commit(client, validator, { uids: [0, 1], values: [1, 1], round: 2000 });
    await control.produceBlocks(1);
    expect((await client.findExtrinsic(tx.txHash, tx.atBlock + 1, 8)).outcome?.kind).toBe("success");

    await control.advanceTo(plan.revealEpochStartBlock + 2);
    // Kept and retried every block of the reveal epoch while the pulse is missing.
    expect(await client.timelockedCommits(NETUID)).toHaveLength(1);

    const nextEpoch = await control.nextEpochStart(NETUID);
    await control.advanceTo(nextEpoch);
    expect(await client.timelockedCommits(NETUID)).toEqual([]);
    expect(await client.weights(NETUID, 0)).toEqual([]);
    const reveal = await client.findTimelockedReveal({ netuid: NETUID, hotkey: validator.address }, 1, 64);
    expect(reveal).toEqual({ revealedAt: null, searchedTo: nextEpoch });
    const outcomes = (await control.info()).reveals.map((r) => r.outcome);
    expect(outcomes.at(-1)).toBe("expired");
    expect(outcomes.slice(0, -1).every((o) => o === "kept")).toBe(true);
  });
});
