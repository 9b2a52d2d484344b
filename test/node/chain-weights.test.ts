// The validator's weights path through the real chain client (workers/chain/polkadot-chain-client.ts)
// against the real subtensor runtime (spec 218) under chopsticks, signed by a pure-JS HotkeySigner:
// set_weights, commit-reveal, and each refusal the client must turn into an EdgeError. The client
// speaks HTTP like the cron Worker; sudo and dev calls go over a separate WebSocket api. Every test
// starts from the same snapshot (dev_setHead), which rolls storage and nonces back.
import type { ApiPromise } from "@polkadot/api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";
import type { HotkeySigner } from "../../schema/keys/hotkey-signer.ts";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { type LocalChain, startLocalChain } from "../../scripts/local-chain/chopsticks.ts";
import {
  connect,
  type LocalSubnet,
  newBlocks,
  setCommitment,
  setHead,
  setUpSubnet,
  sudo,
} from "../../scripts/local-chain/subnet.ts";
import { SPEC_SOURCE, specAvailable } from "../../scripts/local-chain/subtensor-spec.ts";
import type { ExtrinsicOutcome, SubmittedTx, WeightsCall } from "../../workers/chain/chain-client.ts";
import { chainRefusal } from "../../workers/chain/chain-errors.ts";
import { PolkadotChainClient } from "../../workers/chain/polkadot-chain-client.ts";
import { commitHash, randomSalt } from "../../workers/chain/weights-commit.ts";
import { hashRevealTiming } from "../../workers/weights/hash-reveal-timing.ts";

const available = specAvailable();
if (!available)
  console.warn(
    `SKIPPED chain weights tests: the subtensor spec is absent at ${SPEC_SOURCE} (CI has it; set SUBTENSOR_SPEC)`,
  );

const SPEC_218 = 218;

describe.skipIf(!available)("the weights path on the subtensor runtime (spec 218)", () => {
  let chain: LocalChain;
  let api: ApiPromise;
  let subnet: LocalSubnet;
  let client: PolkadotChainClient;
  let validator: HotkeySigner;
  let netuid: number;
  /** The uids of the validator and the three miners: not the owner's (uid 0). */
  let uids: number[];
  let snapshot: string;
  const commitmentTexts = new Map<string, { text: string; block: number }>();

  /**
   * Polls findExtrinsic, as the cron's next ticks would, until the transaction is in a block. In
   * Instant mode submitExtrinsic returns before chopsticks builds the block (0.7–1 s later here).
   */
  async function outcomeOf(tx: SubmittedTx): Promise<ExtrinsicOutcome> {
    let from = tx.atBlock + 1;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      const search = await client.findExtrinsic(tx.txHash, from, 16);
      if (search.outcome) return search.outcome;
      from = search.searchedTo + 1;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`transaction ${tx.txHash} was not included within 20 s`);
  }

  /** What the chain said about a transaction, as the one mapping reads it, and where it said it. */
  async function refusal(
    submit: () => Promise<SubmittedTx>,
  ): Promise<{ code: ErrorCode; where: "pool" | "block"; error: unknown }> {
    let tx: SubmittedTx;
    try {
      tx = await submit();
    } catch (e) {
      if (!(e instanceof EdgeError)) throw e;
      return { code: e.code, where: "pool", error: e.details?.error };
    }
    const outcome = await outcomeOf(tx);
    if (outcome.kind === "success") throw new Error("the transaction succeeded");
    return { code: chainRefusal(outcome.error, SPEC_218).code, where: "block", error: outcome.error };
  }

  async function setWeights(call: Partial<WeightsCall> = {}, signer = validator): Promise<ExtrinsicOutcome> {
    return outcomeOf(
      await client.submitSetWeights(signer, { netuid, uids, values: [1, 2, 3, 4], versionKey: 0n, ...call }),
    );
  }

  beforeAll(async () => {
    chain = await startLocalChain({ buildBlockMode: "Instant" });
    api = await connect(chain.wsUrl);
    subnet = await setUpSubnet(api);
    netuid = subnet.netuid;
    for (const [i, miner] of subnet.miners.slice(0, 2).entries()) {
      const text = `${miner.name}: https://example.invalid/bucket-${i}`.padEnd(i === 0 ? 128 : 100, "x");
      await setCommitment(api, netuid, miner.hotkey, text);
      commitmentTexts.set(miner.hotkey.address, { text, block: (await api.rpc.chain.getHeader()).number.toNumber() });
    }
    client = new PolkadotChainClient(chain.httpUrl);
    validator = hotkeySignerFromSecret("//Charlie//hot");
    const { neurons } = await client.metagraph(netuid);
    uids = neurons.filter((n) => n.hotkey !== subnet.owner.hotkey.address).map((n) => n.uid);
    snapshot = (await api.rpc.chain.getBlockHash()).toHex();
  }, 120_000);

  beforeEach(async () => {
    await setHead(api, snapshot);
  });

  afterAll(async () => {
    await client?.disconnect();
    await api?.disconnect();
    await chain?.stop();
  });

  it("reads the metagraph and the miners' commitments", async () => {
    expect(validator.address).toBe(subnet.validator.hotkey.address);
    const { neurons } = await client.metagraph(netuid);
    expect(uids).toHaveLength(4);
    const me = neurons.find((n) => n.hotkey === validator.address);
    expect(me?.coldkey).toBe(subnet.validator.coldkey.address);
    expect(me?.stakeRao).toBeGreaterThan(90n * 10n ** 9n);

    const commitments = await client.commitments(netuid);
    expect(commitments).toHaveLength(2);
    for (const c of commitments) {
      expect(commitmentTexts.get(c.hotkey), c.hotkey).toEqual({ text: c.text, block: c.block });
    }
    expect(commitments.map((c) => c.text.length).sort()).toEqual([100, 128]); // Raw100, Raw128
  });

  it("sets weights: stored max-upscaled, found in their block, LastUpdate moved, nonces counted", async () => {
    const before = await client.weightsState(netuid, validator.address);
    expect(before).toMatchObject({ commitRevealEnabled: false, rateLimitBlocks: 0, versionKey: 0n, minStakeRao: 0n });
    expect(before.uid).toBe(uids[0]);
    expect(before.stakeRao).toBeGreaterThan(90n * 10n ** 9n);

    const tx = await client.submitSetWeights(validator, { netuid, uids, values: [1, 2, 3, 4], versionKey: 0n });
    expect(tx.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(tx.atBlock).toBe(before.block.number);
    expect(tx.validUntilBlock).toBe(tx.atBlock + 63); // chopsticks finalises at once: era 64 from the best block
    const outcome = await outcomeOf(tx);
    expect(outcome.kind).toBe("success");
    expect(outcome.block.number).toBe(tx.atBlock + 1); // Instant mode: the next block holds it
    expect(outcome.block.hash).toBe((await api.rpc.chain.getBlockHash(outcome.block.number)).toHex());

    // A search that ends before the block, or starts past the head, finds nothing and says how far it got.
    expect(await client.findExtrinsic(tx.txHash, 1, tx.atBlock)).toEqual({ outcome: null, searchedTo: tx.atBlock });
    const head = (await client.head()).number;
    expect(await client.findExtrinsic(tx.txHash, head + 1, 10)).toEqual({ outcome: null, searchedTo: head });

    expect(await client.weights(netuid, before.uid as number)).toEqual(
      uids.map((uid, i) => [uid, [16384, 32768, 49151, 65535][i]]),
    );
    const after = await client.weightsState(netuid, validator.address);
    expect(after.lastUpdateBlock).toBe(outcome.block.number);

    const again = await client.submitSetWeights(validator, { netuid, uids, values: [10, 20, 30, 0], versionKey: 0n });
    expect(again.nonce).toBe(tx.nonce + 1);
    expect((await outcomeOf(again)).kind).toBe("success");
    expect(await client.weights(netuid, before.uid as number)).toEqual(
      uids.map((uid, i) => [uid, [21845, 43690, 65535, 0][i]]), // the chain keeps zeros
    );
  });

  it("commits, refuses an early reveal, then reveals in the reveal epoch: the hash is the chain's", async () => {
    await sudo(api, api.tx.adminUtils.sudoSetCommitRevealWeightsEnabled(netuid, true));
    expect((await client.weightsState(netuid, validator.address)).commitRevealEnabled).toBe(true);
    expect(
      await refusal(() => client.submitSetWeights(validator, { netuid, uids, values: [1, 2, 3, 4], versionKey: 0n })),
    ).toMatchObject({ code: "COMMIT_REVEAL_ENABLED", where: "block", error: "subtensorModule.CommitRevealEnabled" });

    const reveal = { netuid, uids, values: [4, 3, 2, 1], salt: randomSalt(), versionKey: 0n };
    const hash = commitHash(validator.address, reveal);
    const committed = await outcomeOf(await client.submitCommitWeights(validator, netuid, hash));
    expect(committed.kind).toBe("success");
    // Spec 218 keeps (hash, commit block, first reveal block, last reveal block) per commit.
    const commits = (await api.query.subtensorModule.weightCommits(netuid, validator.address)).toJSON() as [
      string,
      number,
      number,
      number,
    ][];
    expect(commits).toHaveLength(1);
    const [storedHash, commitBlock, firstReveal, lastReveal] = commits[0] as [string, number, number, number];
    expect(storedHash).toBe(hash);
    expect(commitBlock).toBe(committed.block.number);
    // What the state machine times the reveal with: the client's reading, and the pure rule agreeing with the chain.
    const state = await client.weightsState(netuid, validator.address);
    expect(state.hashCommits).toEqual([{ hash, commitBlock, commitEpoch: null }]);
    expect(state.subnetEpochIndex).toBeNull();
    const timelock = await client.timelockState(netuid);
    const timing = (head: number) =>
      hashRevealTiming({
        head,
        netuid,
        tempo: timelock.tempo,
        revealPeriodEpochs: timelock.revealPeriodEpochs,
        epochs: timelock.epochs,
        commit: { kind: "block", commitBlock },
      });
    expect(timing(state.block.number)).toMatchObject({ kind: "too-early", waitUntilBlock: firstReveal - 1 });
    expect(timing(firstReveal - 1)).toMatchObject({ kind: "now", lastBlock: lastReveal });
    expect(timing(lastReveal)).toMatchObject({ kind: "expired" });

    expect(await refusal(() => client.submitRevealWeights(validator, reveal))).toMatchObject({
      code: "REVEAL_TOO_EARLY",
      where: "block",
      error: "subtensorModule.RevealTooEarly",
    });
    // The next transaction lands in the block after the head: make that the first reveal block.
    expect(await newBlocks(api, firstReveal - 1 - (await client.head()).number)).toBe(firstReveal - 1);
    const wrongSalt = await refusal(() =>
      client.submitRevealWeights(validator, { ...reveal, salt: reveal.salt.map((w) => w ^ 1) }),
    );
    expect(wrongSalt).toMatchObject({
      code: "COMMIT_NOT_FOUND",
      where: "block",
      error: "subtensorModule.InvalidRevealCommitHashNotMatch",
    });
    const revealed = await outcomeOf(await client.submitRevealWeights(validator, reveal));
    expect(revealed.kind).toBe("success");
    expect(revealed.block.number).toBeLessThanOrEqual(lastReveal);
    expect(await client.weights(netuid, uids[0] as number)).toEqual(
      uids.map((uid, i) => [uid, [65535, 49151, 32768, 16384][i]]),
    );
  });

  it("refuses a reveal after its reveal epoch: REVEAL_EXPIRED", async () => {
    await sudo(api, api.tx.adminUtils.sudoSetCommitRevealWeightsEnabled(netuid, true));
    const reveal = { netuid, uids, values: [1, 1, 1, 1], salt: randomSalt(4), versionKey: 0n };
    const committed = await outcomeOf(
      await client.submitCommitWeights(validator, netuid, commitHash(validator.address, reveal)),
    );
    expect(committed.kind).toBe("success");
    const [[, , , lastReveal]] = (
      await api.query.subtensorModule.weightCommits(netuid, validator.address)
    ).toJSON() as [[string, number, number, number]];
    await newBlocks(api, lastReveal + 1 - (await client.head()).number);
    expect(await refusal(() => client.submitRevealWeights(validator, reveal))).toMatchObject({
      code: "REVEAL_EXPIRED",
      where: "block",
      error: "subtensorModule.ExpiredWeightCommit",
    });
  });

  it("refuses a second set inside the rate limit: WEIGHTS_RATE_LIMITED", async () => {
    expect((await setWeights()).kind).toBe("success");
    await sudo(api, api.tx.adminUtils.sudoSetWeightsSetRateLimit(netuid, 100));
    const state = await client.weightsState(netuid, validator.address);
    expect(state.rateLimitBlocks).toBe(100);
    expect(state.block.number - (state.lastUpdateBlock as number)).toBeLessThan(100);
    expect(
      await refusal(() => client.submitSetWeights(validator, { netuid, uids, values: [1, 2, 3, 4], versionKey: 0n })),
    ).toMatchObject({ code: "WEIGHTS_RATE_LIMITED", where: "block", error: "subtensorModule.SettingWeightsTooFast" });
  });

  it("refuses a version_key below the subnet's: WEIGHTS_VERSION_KEY_LOW", async () => {
    await sudo(api, api.tx.adminUtils.sudoSetWeightsVersionKey(netuid, 7));
    expect((await client.weightsState(netuid, validator.address)).versionKey).toBe(7n);
    expect(
      await refusal(() => client.submitSetWeights(validator, { netuid, uids, values: [1, 2, 3, 4], versionKey: 6n })),
    ).toMatchObject({
      code: "WEIGHTS_VERSION_KEY_LOW",
      where: "block",
      error: "subtensorModule.IncorrectWeightVersionKey",
    });
    expect((await setWeights({ versionKey: 7n })).kind).toBe("success");
  });

  it("refuses a funded hotkey that is not registered on the netuid: VALIDATOR_NOT_REGISTERED", async () => {
    const stranger = hotkeySignerFromSecret("//Alice//hot");
    const state = await client.weightsState(netuid, stranger.address);
    expect(state).toMatchObject({ uid: null, lastUpdateBlock: null, stakeRao: 0n });
    expect(
      await refusal(() => client.submitSetWeights(stranger, { netuid, uids, values: [1, 2, 3, 4], versionKey: 0n })),
    ).toMatchObject({
      code: "VALIDATOR_NOT_REGISTERED",
      where: "block",
      error: "subtensorModule.HotKeyNotRegisteredInSubNet",
    });
  });

  it("refuses a hotkey below WeightsMinStake at the pool: VALIDATOR_STAKE_LOW (custom 3, 1 for commits)", async () => {
    await sudo(api, api.tx.adminUtils.sudoSetWeightsMinStake(1000n * 10n ** 9n));
    const state = await client.weightsState(netuid, validator.address);
    expect(state.minStakeRao).toBe(1000n * 10n ** 9n);
    expect(state.stakeRao).toBeLessThan(state.minStakeRao);
    const head = (await client.head()).number;
    let thrown: unknown;
    await client.submitSetWeights(validator, { netuid, uids, values: [1, 2, 3, 4], versionKey: 0n }).catch((e) => {
      thrown = e;
    });
    expect(thrown).toBeInstanceOf(EdgeError);
    expect((thrown as EdgeError).code).toBe("VALIDATOR_STAKE_LOW");
    expect((thrown as EdgeError).details).toMatchObject({ source: "pool", customCode: 3, specVersion: 218 });
    expect((thrown as EdgeError).message).not.toContain("Failed HTTP Request");
    expect(await refusal(() => client.submitCommitWeights(validator, netuid, `0x${"ab".repeat(32)}`))).toMatchObject({
      code: "VALIDATOR_STAKE_LOW",
      where: "pool",
      error: "NotEnoughStakeToCommitWeights",
    });
    expect((await client.head()).number).toBe(head); // refused at the pool: no block was built
  });

  it("says CHAIN_UNAVAILABLE when the node cannot be reached", async () => {
    const nowhere = new PolkadotChainClient("http://127.0.0.1:9"); // discard port: nothing listens
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "resolved",
        (e) => (e instanceof EdgeError ? e.code : String(e)),
      );
    expect(
      await codeOf(nowhere.submitSetWeights(validator, { netuid, uids, values: [1, 2, 3, 4], versionKey: 0n })),
    ).toBe("CHAIN_UNAVAILABLE");
    expect(await codeOf(nowhere.weightsState(netuid, validator.address))).toBe("CHAIN_UNAVAILABLE");
    expect(await codeOf(nowhere.findExtrinsic(`0x${"00".repeat(32)}`, 1, 4))).toBe("CHAIN_UNAVAILABLE");
    await nowhere.disconnect();
  });
});
