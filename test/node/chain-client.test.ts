// The real chain client (workers/chain/polkadot-chain-client.ts) against the real subtensor
// runtime (spec 218) under chopsticks: the reads the window clock and the intake depend on.
import type { ApiPromise } from "@polkadot/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalChain, startLocalChain } from "../../scripts/local-chain/chopsticks.ts";
import { connect, type LocalSubnet, setUpSubnet } from "../../scripts/local-chain/subnet.ts";
import { SPEC_SOURCE, specAvailable } from "../../scripts/local-chain/subtensor-spec.ts";
import { PolkadotChainClient } from "../../workers/chain/polkadot-chain-client.ts";

const available = specAvailable();
if (!available)
  console.warn(`SKIPPED chain tests: the subtensor spec is absent at ${SPEC_SOURCE} (CI has it; set SUBTENSOR_SPEC)`);

describe.skipIf(!available)("PolkadotChainClient on the subtensor runtime", () => {
  let chain: LocalChain;
  let api: ApiPromise;
  let subnet: LocalSubnet;
  let client: PolkadotChainClient;

  beforeAll(async () => {
    chain = await startLocalChain();
    api = await connect(chain.wsUrl);
    subnet = await setUpSubnet(api);
    client = new PolkadotChainClient(chain.httpUrl);
  }, 240_000);

  afterAll(async () => {
    await client?.disconnect();
    await api?.disconnect();
    await chain?.stop();
  });

  it("reads the head with the timestamp of its timestamp.set inherent", async () => {
    const head = await client.head();
    const header = await api.rpc.chain.getHeader();
    expect(head.number).toBe(header.number.toNumber());
    expect(head.hash).toBe(header.hash.toHex());
    const now = await (await api.at(head.hash)).query.timestamp.now();
    expect(head.timestampMs).toBe(Number(now.toString()));
    // Chain time is synthetic (genesis 2025-01-01, 3 s slots): block n at genesis + 3 s·n.
    expect(head.timestampMs).toBe(1_735_689_600_000 + 3000 * head.number);
  });

  it("reads block n, and null for a block the chain has not produced", async () => {
    const head = await client.head();
    const b = await client.block(2);
    expect(b).toMatchObject({ number: 2, timestampMs: 1_735_689_600_000 + 6000 });
    expect(b?.hash).toBe((await api.rpc.chain.getBlockHash(2)).toHex());
    expect(await client.block(head.number + 5)).toBeNull();
  });

  it("reads the metagraph: every uid with its hotkey, coldkey, stake and permit", async () => {
    const { neurons, block } = await client.metagraph(subnet.netuid);
    expect(block.number).toBe((await client.head()).number);
    const byHotkey = new Map(neurons.map((n) => [n.hotkey, n]));
    for (const account of [subnet.validator, ...subnet.miners]) {
      const n = byHotkey.get(account.hotkey.address);
      expect(n, account.name).toBeDefined();
      expect(n?.coldkey).toBe(account.coldkey.address);
      const uid = await api.query.subtensorModule.uids(subnet.netuid, account.hotkey.address);
      expect(n?.uid).toBe(Number(uid.toString()));
      expect(n?.registrationBlock).toBeGreaterThan(0);
    }
    const validator = byHotkey.get(subnet.validator.hotkey.address);
    expect(validator?.stakeRao).toBeGreaterThan(90n * 10n ** 9n);
    expect(byHotkey.get(subnet.miners[0]?.hotkey.address ?? "")?.stakeRao).toBeLessThan(10n ** 9n);
    // spec 218 gives every uid a permit (docs/LOCAL_CHAIN.md §6)
    expect(neurons.every((n) => typeof n.validatorPermit === "boolean")).toBe(true);
    expect(new Set(neurons.map((n) => n.uid)).size).toBe(neurons.length);
  });
});
