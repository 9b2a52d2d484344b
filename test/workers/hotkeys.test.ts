// GET /v1/hotkeys/{hotkey} in workerd over real D1: a miner's uid from the metagraph the intake
// uses, under any ss58 prefix, with no chain call per request for unknown hotkeys.
import { decodeAddress, encodeAddress } from "@polkadot/util-crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { hotkeyParam } from "../../schema/api/request-params.ts";
import { getHparams } from "../../schema/hparams.ts";
import type { FakeChain } from "./support/fake-chain.ts";
import { miner, NETUID, neuronOf } from "./support/miners.ts";
import { chainAtPutWindow, registerMiners, type TestClock, testApp, testClock } from "./support/world.ts";

const hparams = getHparams("local");
const alice = miner(3, "alice");
const bob = miner(4, "bob");

async function coded(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
}

describe("GET /v1/hotkeys/{hotkey}", () => {
  let chain: FakeChain;
  let clock: TestClock;
  let app: ReturnType<typeof testApp>;

  beforeEach(async () => {
    chain = chainAtPutWindow(100);
    clock = testClock();
    app = testApp(chain, clock);
    await registerMiners([alice, bob], chain);
  });

  it("answers a registered hotkey's uid and the netuid, from D1 without asking the chain", async () => {
    const before = chain.calls.metagraph;
    const res = await app.call(`/v1/hotkeys/${alice.hotkey}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hotkey: alice.hotkey, uid: 3, netuid: NETUID });
    expect(chain.calls.metagraph).toBe(before);
  });

  it("gives the same answer for the key under another ss58 prefix, in the validator's prefix 42", async () => {
    const bittensor = encodeAddress(decodeAddress(bob.hotkey), 0);
    expect(bittensor).not.toBe(bob.hotkey);
    const res = await app.call(`/v1/hotkeys/${bittensor}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hotkey: bob.hotkey, uid: 4, netuid: NETUID });
  });

  it("refuses an unknown hotkey with 403 HOTKEY_UNREGISTERED after at most one rate-limited refresh", async () => {
    const before = chain.calls.metagraph;
    const outsider = miner(9, "outsider");
    expect(await coded(await app.call(`/v1/hotkeys/${outsider.hotkey}`))).toEqual([403, "HOTKEY_UNREGISTERED"]);
    expect(chain.calls.metagraph).toBe(before + 1);
    // Further unknown hotkeys within the interval cost no chain call.
    for (const name of ["a", "b", "c"])
      expect(await coded(await app.call(`/v1/hotkeys/${miner(10, name).hotkey}`))).toEqual([
        403,
        "HOTKEY_UNREGISTERED",
      ]);
    expect(chain.calls.metagraph).toBe(before + 1);
    // Once it registers and the interval has passed, the refresh finds it.
    chain.neurons = [alice, bob, outsider].map(neuronOf);
    clock.advance(hparams.intake.metagraph_refresh_seconds * 1000);
    const res = await app.call(`/v1/hotkeys/${outsider.hotkey}`);
    expect(await res.json()).toEqual({ hotkey: outsider.hotkey, uid: 9, netuid: NETUID });
    expect(chain.calls.metagraph).toBe(before + 2);
  });

  it("refuses a malformed or overlong address with 400 BAD_REQUEST before any lookup", async () => {
    const before = chain.calls.metagraph;
    const corrupted = `${alice.hotkey.slice(0, -1)}${alice.hotkey.endsWith("a") ? "b" : "a"}`;
    for (const bad of ["not-an-address", corrupted, "1".repeat(51), "5".repeat(5000), "0xdeadbeef", "%F0%9F%94%91"]) {
      const res = await app.call(`/v1/hotkeys/${bad}`);
      expect(await coded(res), bad.slice(0, 20)).toEqual([400, "BAD_REQUEST"]);
    }
    expect(chain.calls.metagraph).toBe(before);
  });

  it("stops at the length bound and the alphabet: such a path is never decoded", () => {
    const issues = (text: string) => hotkeyParam.safeParse(text).error?.issues.map((i) => i.code);
    expect(issues("5".repeat(5000))).toEqual(["too_big"]);
    expect(issues("0xdeadbeef")).toEqual(["invalid_format"]);
  });
});
