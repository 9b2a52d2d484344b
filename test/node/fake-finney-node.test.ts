// The fake finney node itself (test/node/support/fake-finney/): that it answers as a spec-393
// node does, refuses what a node refuses before the pool, and reveals timelocked commits as the
// chain does, dropping the bad ones silently. The chain client against it inside workerd is
// test/workers/weights-timelocked.test.ts.
import { ApiPromise, HttpProvider } from "@polkadot/api";
import type { SubmittableExtrinsic } from "@polkadot/api/types";
import type { EventRecord } from "@polkadot/types/interfaces";
import type { Signer } from "@polkadot/types/types";
import { u8aConcat, u8aToHex } from "@polkadot/util";
import { blake2AsU8a } from "@polkadot/util-crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HotkeySigner, hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { encryptCommit } from "../../schema/weights/timelock-commit.ts";
import { encodeWeightsTlockPayload } from "../../schema/weights/tlock-payload.ts";
import { PolkadotChainClient } from "../../workers/chain/polkadot-chain-client.ts";
import type { FakeFinneyConfig, RpcErrorBody } from "../shared/support/fake-finney-control.ts";
import { maxUpscale } from "./support/fake-finney/chain.ts";
import { FINNEY_METADATA_SOURCE, finneyMetadataAvailable } from "./support/fake-finney/metadata-file.ts";
import type { FakeFinneyServer } from "./support/fake-finney/server.ts";

const available = finneyMetadataAvailable();
if (!available)
  console.warn(
    `SKIPPED fake finney node tests: the metadata is absent at ${FINNEY_METADATA_SOURCE} (CI has it; set FINNEY_METADATA)`,
  );

const NETUID = 3;
const [alice, bob, charlie, dave] = ["//Alice", "//Bob", "//Charlie", "//Dave"].map(hotkeySignerFromSecret) as [
  HotkeySigner,
  HotkeySigner,
  HotkeySigner,
  HotkeySigner,
];

const config = (extra: Partial<FakeFinneyConfig["subnets"][number]> = {}): FakeFinneyConfig => ({
  subnets: [
    {
      netuid: NETUID,
      tempo: 10,
      neurons: [alice, bob, charlie, dave].map((k) => ({ hotkey: k.address, alphaStake: 10n ** 9n })),
      ...extra,
    },
  ],
});

/** A polkadot Signer over a hotkey, as the chain client signs (SCALE payload, blake2-256 above 256 bytes). */
function signerOf(api: ApiPromise, key: HotkeySigner): Signer {
  return {
    signPayload: async (payload) => {
      const bytes = api.registry.createType("ExtrinsicPayload", payload, { version: payload.version }).toU8a(true);
      const message = bytes.length > 256 ? blake2AsU8a(bytes, 256) : bytes;
      return { id: 1, signature: u8aToHex(u8aConcat(new Uint8Array([1]), key.sign(message))) };
    },
  };
}

describe.skipIf(!available)("the fake finney node", () => {
  let server: FakeFinneyServer;

  beforeAll(async () => {
    const { FakeFinneyServer } = await import("./support/fake-finney/server.ts");
    server = await FakeFinneyServer.start();
  });

  afterAll(async () => {
    await server?.close();
  });

  /** A raw JSON-RPC call: the node's error body instead of a thrown RpcError. */
  async function rpc(
    url: string,
    method: string,
    params: unknown[],
  ): Promise<{ result?: unknown; error?: RpcErrorBody }> {
    const res = await fetch(url, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    return (await res.json()) as { result?: unknown; error?: RpcErrorBody };
  }

  it("answers as a spec-393 node: runtime version from System.Version, its metadata, blocks hashed as clients hash them", async () => {
    const { url, chain } = server.add(config());
    const api = await ApiPromise.create({ provider: new HttpProvider(url), initWasm: false, noInitWarn: true });
    try {
      expect(api.runtimeVersion.specName.toString()).toBe("node-subtensor");
      expect(api.runtimeVersion.specVersion.toNumber()).toBe(393);
      expect(api.runtimeVersion.transactionVersion.toNumber()).toBe(1);
      // What state_getRuntimeVersion answered is the metadata's own System.Version constant.
      const constant = api.consts.system.version.toJSON() as Record<string, unknown>;
      const version = api.runtimeVersion.toJSON() as Record<string, unknown>;
      for (const field of ["specName", "implName", "specVersion", "implVersion", "transactionVersion", "apis"])
        expect(version[field], field).toEqual(constant[field]);
      expect(api.genesisHash.toHex()).toBe(chain.genesisHash);
      expect([...api.tx.subtensorModule.commitTimelockedWeights.callIndex]).toEqual([7, 113]);
      expect([...api.tx.subtensorModule.commitTimelockedMechanismWeights.callIndex]).toEqual([7, 118]);
      chain.produceBlock();
      const header = await api.rpc.chain.getHeader();
      expect(header.number.toNumber()).toBe(2);
      expect(header.hash.toHex()).toBe((await api.rpc.chain.getBlockHash(2)).toHex());
      expect(header.parentHash.toHex()).toBe((await api.rpc.chain.getBlockHash(1)).toHex());
      expect((await api.query.subtensorModule.tempo(NETUID)).toJSON()).toBe(10);
      expect((await api.query.drand.lastStoredRound()).toJSON()).toBe(1000);
      const at1 = await api.at(header.parentHash);
      expect((await at1.query.system.number()).toJSON()).toBe(1);
    } finally {
      await api.disconnect();
    }
  });

  it("refuses what a node refuses before the pool: format, signature, nonce, era, call", async () => {
    const { url, chain } = server.add({ ...config(), acceptCalls: ["subtensorModule.commitTimelockedWeights"] });
    const api = await ApiPromise.create({ provider: new HttpProvider(url), initWasm: false, noInitWarn: true });
    try {
      const commitHex = u8aToHex(
        encryptCommit(
          encodeWeightsTlockPayload({ hotkey: alice.publicKey, uids: [1], values: [1], versionKey: 0 }),
          1000,
        ),
      );
      const build = () => api.tx.subtensorModule.commitTimelockedWeights(NETUID, commitHex, 1000, 4);
      const sign = async (tx: SubmittableExtrinsic<"promise">, nonce: number, eraFrom = chain.head) => {
        const era = api.createType("ExtrinsicEra", { current: eraFrom.number, period: 64 });
        await tx.signAsync(alice.address, { nonce, era, blockHash: eraFrom.hash, signer: signerOf(api, alice) });
        return tx.toHex();
      };
      const refused = async (hex: string) => (await rpc(url, "author_submitExtrinsic", [hex])).error;

      expect(await refused(build().toHex())).toMatchObject({ code: 1001 }); // unsigned
      const good = await sign(build(), 0);
      const flipped = `${good.slice(0, 80)}${good[80] === "0" ? "1" : "0"}${good.slice(81)}`; // a signature byte
      expect(await refused(flipped)).toEqual({
        code: 1010,
        message: "Invalid Transaction",
        data: "Transaction has a bad signature",
      });
      expect(await refused(await sign(build(), 1))).toMatchObject({ data: "Transaction will be valid in the future" });
      // An era born at a block the node has not produced.
      const future = { ...chain.head, number: chain.head.number + 70 };
      expect(await refused(await sign(build(), 0, future))).toMatchObject({
        data: "Transaction has an ancient birth block",
      });
      const tooLarge = api.tx.subtensorModule.commitTimelockedWeights(NETUID, `0x${"ab".repeat(5001)}`, 1000, 4);
      expect(await refused(await sign(tooLarge, 0))).toMatchObject({ code: 1001 });
      const other = api.tx.subtensorModule.commitWeights(NETUID, `0x${"11".repeat(32)}`);
      expect(await refused(await sign(other, 0))).toMatchObject({ data: "Transaction call is not expected" });

      expect((await rpc(url, "author_submitExtrinsic", [good])).result).toBe(
        u8aToHex(blake2AsU8a(api.createType("Extrinsic", good).toU8a(), 256)),
      );
      expect(await refused(good)).toMatchObject({ code: 1013 });
      expect((await rpc(url, "system_accountNextIndex", [alice.address])).result).toBe(1);
      chain.produceBlock();
      expect(chain.inclusions).toEqual([{ txHash: expect.any(String), block: 2, error: null }]);
      expect(await refused(good)).toMatchObject({ data: "Transaction is outdated" });
      expect(chain.submissions.map((s) => s.rejected?.code ?? null)).toEqual([
        1001,
        1010,
        1010,
        1010,
        1001,
        1010,
        null,
        1013,
        1010,
      ]);
    } finally {
      await api.disconnect();
    }
  });

  it("reveals as the chain does: waits for the pulse, drops a wrong round, a foreign hotkey and a stale version key silently", async () => {
    const { url, chain } = server.add({ ...config({ weightsVersionKey: 5 }), pulses: [1000] });
    const client = new PolkadotChainClient(url);
    try {
      const send = (
        key: HotkeySigner,
        w: { round: number; claim?: number; hotkey?: Uint8Array; versionKey?: number },
      ) => {
        const payload = encodeWeightsTlockPayload({
          hotkey: w.hotkey ?? key.publicKey,
          uids: [0, 1],
          values: [2, 1],
          versionKey: w.versionKey ?? 5,
        });
        const commitHex = u8aToHex(encryptCommit(payload, w.round));
        const call = { netuid: NETUID, commitHex, revealRound: w.claim ?? w.round, commitRevealVersion: 4 };
        return client.submitTimelockedCommit(key, call);
      };
      await send(alice, { round: 2000 }); // its pulse lands later in the reveal epoch
      await send(bob, { round: 1000, claim: 2000 }); // encrypted to another round than it names
      await send(charlie, { round: 1000, hotkey: alice.publicKey }); // someone else's payload
      await send(dave, { round: 1000, versionKey: 4 }); // below WeightsVersionKey 5
      chain.produceBlock();
      expect(chain.inclusions.map((i) => i.error)).toEqual([null, null, null, null]);

      const start = chain.nextEpochStart(NETUID);
      chain.advanceTo(start);
      const at = (block: number) => chain.reveals.filter((r) => r.block === block).map((r) => [r.hotkey, r.outcome]);
      expect(at(start)).toEqual([
        [alice.address, "kept"],
        [bob.address, "kept"],
        [charlie.address, "HotkeyMismatch"],
        [dave.address, "IncorrectWeightVersionKey"],
      ]);
      chain.produceBlock();
      chain.addPulse(2000);
      chain.produceBlock();
      expect(at(start + 2)).toEqual([
        [alice.address, "revealed"],
        [bob.address, "InvalidSignature"],
      ]);
      for (const [uid, weights] of [
        [
          0,
          [
            [0, 65535],
            [1, 32768],
          ],
        ],
        [1, []],
        [2, []],
        [3, []],
      ] as const)
        expect(await client.weights(NETUID, uid), `uid ${uid}`).toEqual(weights);

      // Only the reveal's events, in Initialization; the drops leave no trace on chain.
      const api = await client.api();
      const events = (await (await api.at(chain.head.hash)).query.system.events()) as unknown as EventRecord[];
      const named = events.map(({ phase, event }) => `${phase.type} ${event.section}.${event.method}`);
      expect(named).toEqual([
        "Initialization subtensorModule.WeightsSet",
        "Initialization subtensorModule.TimelockedWeightsRevealed",
        "ApplyExtrinsic system.ExtrinsicSuccess",
      ]);
      expect(await client.timelockedCommits(NETUID)).toEqual([]);
    } finally {
      await client.disconnect();
    }
  });
});

describe("the fake node's max-upscale", () => {
  it("max-upscales in the chain's I32F32: above 32768 by a truncated quotient, else after the product, half up", () => {
    expect(maxUpscale([100, 50])).toEqual([65535, 32768]);
    expect(maxUpscale([1, 2, 3])).toEqual([21845, 43690, 65535]);
    expect(maxUpscale([65535, 32768, 0])).toEqual([65535, 32768, 0]);
    // 65535 / 40000 truncated to 32 fractional bits, times 20000: 32767.4999… rounds down.
    expect(maxUpscale([40000, 20000])).toEqual([65535, 32767]);
    expect(maxUpscale([0, 0])).toEqual([0, 0]);
  });
});
