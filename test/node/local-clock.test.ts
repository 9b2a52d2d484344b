// The local chain's clock (scripts/local-chain/pacer.ts) on the real subtensor runtime under
// chopsticks, with a subnet of 8 named miners: blocks every 3 s stamped with the wall clock, read
// back the way the validator reads them (PolkadotChainClient, timestamp.set inherents).
import { execFileSync } from "node:child_process";
import path from "node:path";
import type { ApiPromise } from "@polkadot/api";
import type { Option, u16 } from "@polkadot/types";
import { hexToU8a } from "@polkadot/util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountUris, type LocalChain, startLocalChain } from "../../scripts/local-chain/chopsticks.ts";
import { type PacedBlock, type PacerStall, startPacer } from "../../scripts/local-chain/pacer.ts";
import {
  connect,
  devAccount,
  type LocalSubnet,
  minerNames,
  send,
  setCommitment,
  setUpSubnet,
} from "../../scripts/local-chain/subnet.ts";
import { SPEC_SOURCE, specAvailable } from "../../scripts/local-chain/subtensor-spec.ts";
import { PolkadotChainClient } from "../../workers/chain/polkadot-chain-client.ts";

const PERIOD_MS = 3000;
const BLOCKS = 9;
/** How far a block's timestamp may sit from its tick on the grid (tick lateness + two reads). */
const TICK_BOUND_MS = 250;
const MINERS = minerNames(8);
const available = specAvailable();
if (!available)
  console.warn(
    `SKIPPED local clock tests: the subtensor spec is absent at ${SPEC_SOURCE} (CI has it; set SUBTENSOR_SPEC)`,
  );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a pacer that records its blocks; `waitFor(n)` fails with the last build error if blocks do not come. */
async function recordingPacer(api: ApiPromise, periodMs: number) {
  const blocks: (PacedBlock & { seenAtMs: number })[] = [];
  let stalled: Error | undefined;
  const pacer = await startPacer(api, {
    periodMs,
    onBlock: (b) => blocks.push({ ...b, seenAtMs: Date.now() }),
    onStall: (s) => {
      stalled = s.error;
    },
  });
  const waitFor = async (n: number) => {
    const deadline = Date.now() + (n + 2) * periodMs + 5000;
    while (blocks.length < n) {
      if (Date.now() > deadline)
        throw new Error(`only ${blocks.length} of ${n} blocks by the deadline${stalled ? `: ${stalled.message}` : ""}`);
      await sleep(50);
    }
  };
  return { pacer, blocks, waitFor };
}

describe.skipIf(!available)("the local chain's clock with a subnet of 8 miners", () => {
  let chain: LocalChain;
  let api: ApiPromise;
  let subnet: LocalSubnet;
  let client: PolkadotChainClient;
  const chainLog: string[] = [];

  /** Head number, read raw so that no cache can answer. */
  async function headNumber(): Promise<number> {
    return (await api.rpc.chain.getHeader()).number.toNumber();
  }

  /** Timestamp.Now in block `hash`'s final state, read raw (uncached). */
  async function stateNowMs(hash: string): Promise<number> {
    const raw = await api.rpc("state_getStorage", api.query.timestamp.now.key(), hash);
    return api.createType("u64", hexToU8a(raw as unknown as string)).toNumber();
  }

  beforeAll(async () => {
    chain = await startLocalChain({ fundedUris: accountUris(MINERS), log: (line) => chainLog.push(line) });
    api = await connect(chain.wsUrl);
    subnet = await setUpSubnet(api, { miners: MINERS });
    client = new PolkadotChainClient(chain.httpUrl);
  }, 240_000);

  afterAll(async () => {
    await client?.disconnect();
    await api?.disconnect();
    await chain?.stop();
  });

  it("registers the owner, the validator and all 8 named miners, each with its own uid", async () => {
    const n = Number((await api.query.subtensorModule.subnetworkN(subnet.netuid)).toString());
    expect(n).toBe(2 + MINERS.length);
    expect(subnet.miners.map((m) => m.name)).toEqual(MINERS);
    const uids = [];
    for (const account of [subnet.owner, subnet.validator, ...subnet.miners]) {
      const uid = (await api.query.subtensorModule.uids(subnet.netuid, account.hotkey.address)) as Option<u16>;
      expect(uid.isSome, account.name).toBe(true);
      uids.push(Number(uid.toString()));
    }
    expect(uids).toEqual(Array.from({ length: n }, (_, i) => i)); // owner 0, validator 1, miners in order
    const { neurons } = await client.metagraph(subnet.netuid);
    expect(neurons.map((x) => x.hotkey).sort()).toEqual(
      [subnet.owner, subnet.validator, ...subnet.miners].map((a) => a.hotkey.address).sort(),
    );
  });

  it("registers one more miner of one's own by name (npm run register-miner), funded on the spot", async () => {
    const script = path.join(import.meta.dirname, "../../scripts/register-miner.ts");
    const out = execFileSync(
      process.execPath,
      [script, "--chain", chain.wsUrl, "--netuid", String(subnet.netuid), "--name", "Mallory", "--url", "http://v"],
      { encoding: "utf8", timeout: 120_000 },
    );
    const uid = 2 + MINERS.length;
    const hotkey = devAccount("Mallory").hotkey.address;
    expect(out).toContain(`registered //Mallory//hot (${hotkey}) on netuid ${subnet.netuid}: uid ${uid}`);
    expect(out).toContain(`npm run miner -- --url http://v --hotkey //Mallory//hot --uid ${uid}`);
    const { neurons } = await client.metagraph(subnet.netuid);
    expect(neurons.find((x) => x.hotkey === hotkey)?.uid).toBe(uid);
  });

  describe("a pacer run of 9 blocks at 3 s with two transactions in flight", () => {
    let seen: (PacedBlock & { seenAtMs: number })[] = [];
    let startHead = 0;
    let headAtSubmit = 0;
    let commitmentBlock = 0;
    let weightsBlock = 0;
    let blocksAtStop = 0;
    let headAtStop = 0;
    let headAfterPause = 0;

    beforeAll(async () => {
      startHead = await headNumber();
      const { pacer, blocks, waitFor } = await recordingPacer(api, PERIOD_MS);
      seen = blocks;
      await waitFor(3);
      await sleep(PERIOD_MS / 4); // mid-period: the next tick is about 2 s away
      headAtSubmit = await headNumber();
      const miner = subnet.miners[3];
      if (!miner) throw new Error("no miner 4");
      const validatorUid = 1;
      const minerUids = subnet.miners.map((_, i) => 2 + i);
      await Promise.all([
        setCommitment(api, subnet.netuid, miner.hotkey, `${miner.name} commits while the pacer runs`),
        send(
          api,
          api.tx.subtensorModule.setWeights(
            subnet.netuid,
            minerUids,
            minerUids.map(() => 1),
            0,
          ),
          subnet.validator.hotkey,
        ),
      ]);
      const commitment = await api.query.commitments.commitmentOf(subnet.netuid, miner.hotkey.address);
      commitmentBlock = Number((commitment.toJSON() as { block: number }).block);
      const lastUpdate = (await api.query.subtensorModule.lastUpdate(subnet.netuid)).toJSON() as number[];
      weightsBlock = Number(lastUpdate[validatorUid]);
      await waitFor(BLOCKS);
      await pacer.stop();
      blocksAtStop = pacer.blocks;
      headAtStop = await headNumber();
      await sleep(PERIOD_MS + 500);
      headAfterPause = await headNumber();

      const drift = seen.map((b) => b.driftMs);
      const build = seen.map((b) => b.buildMs);
      const gaps = seen.slice(1).map((b, i) => b.timestampMs - (seen[i]?.timestampMs ?? 0));
      console.log(
        `pacer at ${PERIOD_MS} ms, ${seen.length} blocks #${seen[0]?.number}…#${seen.at(-1)?.number}: ` +
          `drift ${JSON.stringify(drift)} ms, build ${JSON.stringify(build)} ms, gaps ${JSON.stringify(gaps)} ms; ` +
          `txs submitted at head #${headAtSubmit} landed in #${commitmentBlock} (commitment), #${weightsBlock} (weights)`,
      );
    }, 120_000);

    it("stamps every block with the wall clock at its tick, strictly increasing, a period apart", async () => {
      expect(seen.length).toBeGreaterThanOrEqual(BLOCKS);
      expect(seen.map((b) => b.number)).toEqual(seen.map((_, i) => startHead + 1 + i));
      for (const b of seen) {
        // what the validator reads: the block's timestamp.set inherent
        const block = await client.block(b.number);
        expect(block?.hash, `#${b.number}`).toBe(b.hash);
        expect(block?.timestampMs, `#${b.number}`).toBe(b.timestampMs);
        expect(b.driftMs, `#${b.number} drift`).toBeGreaterThanOrEqual(0);
        expect(b.driftMs, `#${b.number} drift`).toBeLessThan(TICK_BOUND_MS);
        // in wall-clock terms on this side too: stamped during its build, before the test saw it
        expect(b.seenAtMs - b.timestampMs, `#${b.number} seen − ts`).toBeGreaterThanOrEqual(0);
        expect(b.seenAtMs - b.timestampMs, `#${b.number} seen − ts`).toBeLessThanOrEqual(b.buildMs + 20);
      }
      for (const [i, b] of seen.slice(1).entries()) {
        const gap = b.timestampMs - (seen[i]?.timestampMs ?? 0);
        expect(gap, `#${b.number} − previous`).toBeGreaterThan(PERIOD_MS - TICK_BOUND_MS);
        expect(gap, `#${b.number} − previous`).toBeLessThan(PERIOD_MS + TICK_BOUND_MS);
      }
    });

    it("leaves every block's state Timestamp.Now equal to its inherent (the travel is undone)", async () => {
      for (const b of seen) expect(await stateNowMs(b.hash), `#${b.number}`).toBe(b.timestampMs);
      // the setup's last block too, which the first tick travelled from
      const before = await client.block(startHead);
      expect(await stateNowMs(before?.hash ?? "")).toBe(before?.timestampMs);
    });

    it("makes no block per transaction: a transaction waits for the next tick", () => {
      expect(commitmentBlock).toBeGreaterThan(headAtSubmit);
      expect(commitmentBlock).toBeLessThanOrEqual(headAtSubmit + 2);
      expect(weightsBlock).toBe(commitmentBlock);
      expect(headAtStop).toBe(startHead + blocksAtStop); // every block is one the pacer built
    });

    it("builds nothing after stop()", () => {
      expect(headAfterPause).toBe(headAtStop);
    });
  });

  it("never lets a timestamp go backwards when the chain is ahead of the wall clock", async () => {
    // A head stamped a minute ahead (as a chain left ahead by a burst of Instant blocks would be).
    const aheadMs = Date.now() + 60_000;
    await api.rpc("dev_timeTravel", aheadMs);
    const { pacer, blocks, waitFor } = await recordingPacer(api, 1000);
    await waitFor(2);
    await pacer.stop();
    expect(blocks[0]?.timestampMs).toBe(aheadMs + 1);
    expect(blocks[1]?.timestampMs).toBe(aheadMs + 2);
    for (const b of blocks) expect((await client.block(b.number))?.timestampMs).toBe(b.timestampMs);
  }, 30_000);

  it("rides out a chain that stops answering (chopsticks SIGSTOPped), says so, and builds again once it answers", async () => {
    const stalls: PacerStall[] = [];
    const recoveries: PacerStall[] = [];
    const blocks: PacedBlock[] = [];
    const pacer = await startPacer(api, {
      periodMs: 1000,
      stallAfterMs: 2000,
      onBlock: (b) => blocks.push(b),
      onStall: (s) => stalls.push(s),
      onRecover: (s) => recoveries.push(s),
    });
    const waitForBlocks = async (n: number) => {
      const deadline = Date.now() + 20_000;
      while (blocks.length < n && Date.now() < deadline) await sleep(50);
      expect(blocks.length).toBeGreaterThanOrEqual(n);
    };
    await waitForBlocks(2);
    const before = blocks.length;
    const stoppedAt = Date.now();
    process.kill(chain.pid, "SIGSTOP");
    await sleep(6000);
    process.kill(chain.pid, "SIGCONT");
    const stallMs = Date.now() - stoppedAt;
    await waitForBlocks(before + 3);
    await pacer.stop();
    // At most the build in flight when the chain stopped lands during the stall.
    expect(blocks.filter((b) => b.timestampMs > stoppedAt + 1000 && b.timestampMs < stoppedAt + stallMs)).toEqual([]);
    expect(stalls.length).toBeGreaterThanOrEqual(1);
    expect(recoveries).toHaveLength(1);
    expect(recoveries[0]?.stalledMs).toBeGreaterThanOrEqual(stallMs - 1000);
    const after = blocks.slice(before - 1);
    for (const [i, b] of after.slice(1).entries()) {
      expect(b.number).toBe((after[i] as PacedBlock).number + 1);
      expect(b.timestampMs).toBeGreaterThan((after[i] as PacedBlock).timestampMs);
      expect((await client.block(b.number))?.timestampMs).toBe(b.timestampMs);
    }
  }, 60_000);

  it("leaves no inherent or Aura slot error in the chopsticks log", () => {
    expect(chainLog.length).toBeGreaterThan(0);
    const errors = chainLog.filter((l) =>
      /\b(WARN|ERROR|FATAL)\b|Failed to apply inherents|[Ss]lot must|panicked/.test(l),
    );
    expect(errors).toEqual([]);
  });
});
