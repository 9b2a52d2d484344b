// The metagraph and the commitments through the real chain client (PolkadotChainClient over
// HTTP) inside workerd, against the fake finney node on the spec-393 metadata
// (test/node/support/fake-finney/): the metagraph in one get_selective_metagraph runtime call,
// every Data variant of a commitment decoded. The storage path (spec 218) is tested on the local
// chain (test/node/chain-weights.test.ts).
import { TypeRegistry } from "@polkadot/types";
import { stringToHex, u8aToHex } from "@polkadot/util";
import { encodeAddress } from "@polkadot/util-crypto";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { Commitment, CommitmentField } from "../../workers/chain/chain-client.ts";
import { commitmentField } from "../../workers/chain/commitment-data.ts";
import { PolkadotChainClient } from "../../workers/chain/polkadot-chain-client.ts";
import { weightsStakeRule } from "../../workers/chain/stake-rule.ts";
import { FakeFinneyControl, type FakeNeuron } from "../shared/support/fake-finney-control.ts";

const base = inject("fakeFinneyUrl");
if (!base)
  console.warn(
    `SKIPPED the metagraph and commitments in workerd: finney's metadata is absent at ${inject("fakeFinneyMetadata")} (CI has it; set FINNEY_METADATA)`,
  );

const NETUID = 3;
/** finney's TaoWeight (the spec-393 metadata's default), a fraction of u64::MAX. */
const TAO_WEIGHT = 971_718_665_099_567_868n;
const TAO = 1_000_000_000n;

/** An ss58 account made of one repeated byte. */
const account = (byte: number) => encodeAddress(new Uint8Array(32).fill(byte), 42);

/** The stake the chain reports in the metagraph: alpha + TaoWeight × root, by the chain's rule for weights. */
const totalStake = (alpha: bigint, root: bigint) =>
  weightsStakeRule({
    alphaStake: alpha,
    rootStake: root,
    taoWeight: TAO_WEIGHT,
    stakeThreshold: 0n,
    hotkey: "",
    subnetOwnerHotkey: null,
    registered: true,
  }).totalStake;

describe.skipIf(!base)("the metagraph and commitments: the chain client in workerd against a fake finney node", () => {
  const opened: { control: FakeFinneyControl; client: PolkadotChainClient }[] = [];

  afterEach(async () => {
    for (const { control, client } of opened.splice(0)) {
      await client.disconnect();
      await control.close();
    }
  });

  async function start(neurons: readonly FakeNeuron[]) {
    const control = await FakeFinneyControl.create(base, {
      taoWeight: TAO_WEIGHT,
      subnets: [{ netuid: NETUID, neurons }],
    });
    const client = new PolkadotChainClient(control.url);
    opened.push({ control, client });
    return { control, client };
  }

  it("reads the metagraph in one get_selective_metagraph call: keys, permits, registration blocks, TotalStake", async () => {
    const neurons: FakeNeuron[] = [
      { hotkey: account(1), coldkey: account(101), alphaStake: 1_000n * TAO, rootStake: 3_000n * TAO },
      { hotkey: account(2), coldkey: account(102), alphaStake: 7n, validatorPermit: false },
      { hotkey: account(3), alphaStake: 0n, rootStake: 123_456_789n * TAO + 1n },
    ];
    const { control, client } = await start(neurons);
    await control.setStorage("subtensorModule", "blockAtRegistration", [NETUID, 2], 77);
    await control.produceBlocks(1);

    const metagraph = await client.metagraph(NETUID);
    expect(metagraph.block.number).toBe((await control.info()).head);
    expect(metagraph.neurons).toEqual([
      {
        uid: 0,
        hotkey: account(1),
        coldkey: account(101),
        stakeRao: totalStake(1_000n * TAO, 3_000n * TAO),
        validatorPermit: true,
        registrationBlock: 0,
      },
      { uid: 1, hotkey: account(2), coldkey: account(102), stakeRao: 7n, validatorPermit: false, registrationBlock: 0 },
      {
        uid: 2,
        hotkey: account(3),
        // The fake's default coldkey (fake-finney/chain.ts).
        coldkey: account(0xcc),
        stakeRao: totalStake(0n, 123_456_789n * TAO + 1n),
        validatorPermit: true,
        registrationBlock: 77,
      },
    ]);
    // The root stake counts: storage reads (TotalHotkeyAlpha, spec 218's path) would have given the alpha alone.
    expect(metagraph.neurons[0]?.stakeRao).toBeGreaterThan(1_000n * TAO);
  });

  it("reads no uids for a subnet the runtime does not have (the runtime API answers None)", async () => {
    const { client } = await start([{ hotkey: account(1) }]);
    expect((await client.metagraph(NETUID + 1)).neurons).toEqual([]);
  });

  it("decodes every Raw length, BigRaw, the four digests, TimelockEncrypted, ResetBondsFlag and None", async () => {
    const { control, client } = await start([{ hotkey: account(1) }]);
    const digest = (byte: number) => u8aToHex(new Uint8Array(32).fill(byte));
    const notUtf8 = "0xc328ff";
    const big = "é".repeat(200); // 400 bytes: beyond Raw128
    const ciphertext = u8aToHex(Uint8Array.from({ length: 40 }, (_, i) => i));
    // Three fields at most per commitment (Commitments.MaxFields on spec 393).
    const commitments: Record<number, { fields: unknown[]; expected: CommitmentField[] }> = {};
    for (let n = 0; n <= 128; n++) {
      const text = "t".repeat(n);
      commitments[n + 1] = {
        fields: [{ [`Raw${n}`]: stringToHex(text) }],
        expected: [{ variant: `Raw${n}`, text, hex: stringToHex(text) }],
      };
    }
    commitments[200] = {
      fields: [{ Raw3: notUtf8 }, { BigRaw: stringToHex(big) }, { BigRaw: "0xff" }],
      expected: [
        { variant: "Raw3", text: `raw:${notUtf8}`, hex: notUtf8 },
        { variant: "BigRaw", text: big, hex: stringToHex(big) },
        { variant: "BigRaw", text: "raw:0xff", hex: "0xff" },
      ],
    };
    commitments[201] = {
      fields: [{ BlakeTwo256: digest(1) }, { Sha256: digest(2) }, { Keccak256: digest(3) }],
      expected: [
        { variant: "BlakeTwo256", text: `blake2-256:${digest(1)}`, hex: digest(1) },
        { variant: "Sha256", text: `sha256:${digest(2)}`, hex: digest(2) },
        { variant: "Keccak256", text: `keccak-256:${digest(3)}`, hex: digest(3) },
      ],
    };
    commitments[202] = {
      fields: [{ ShaThree256: digest(4) }, { TimelockEncrypted: { encrypted: ciphertext, revealRound: 5_000_123 } }],
      expected: [
        { variant: "ShaThree256", text: `sha3-256:${digest(4)}`, hex: digest(4) },
        {
          variant: "TimelockEncrypted",
          text: `timelock-encrypted(round 5000123):${ciphertext}`,
          hex: ciphertext,
          revealRound: 5_000_123,
        },
      ],
    };
    commitments[203] = {
      fields: ["ResetBondsFlag", "None"],
      expected: [
        { variant: "ResetBondsFlag", text: "reset-bonds", hex: "0x" },
        { variant: "None", text: "", hex: "0x" },
      ],
    };
    commitments[204] = { fields: [], expected: [] };
    for (const [byte, { fields }] of Object.entries(commitments))
      await control.setStorage("commitments", "commitmentOf", [NETUID, account(Number(byte))], {
        deposit: 0,
        block: Number(byte),
        info: { fields },
      });
    // Another subnet's commitment is not this one's.
    await control.setStorage("commitments", "commitmentOf", [NETUID + 1, account(1)], {
      deposit: 0,
      block: 1,
      info: { fields: [{ Raw2: stringToHex("no") }] },
    });
    await control.produceBlocks(1);

    const read = await client.commitments(NETUID);
    const expected: Commitment[] = Object.entries(commitments)
      .map(([byte, c]) => ({
        hotkey: account(Number(byte)),
        block: Number(byte),
        text: c.expected[0]?.text ?? "",
        fields: c.expected,
      }))
      .sort((a, b) => (a.hotkey < b.hotkey ? -1 : a.hotkey > b.hotkey ? 1 : 0));
    expect(read).toEqual(expected);
  });
});

describe("commitment fields", () => {
  it("labels a Data variant it does not know with its name and bytes instead of failing", () => {
    const registry = new TypeRegistry();
    // A later runtime's Data, with a variant this code has never seen.
    registry.register({ LaterData: { _enum: { None: "Null", Raw1: "[u8; 1]", SomethingNew: "(u32, Vec<u8>)" } } });
    const data = registry.createType("LaterData", { SomethingNew: [42, "0x0102"] });
    expect(commitmentField(data)).toEqual({
      variant: "SomethingNew",
      text: "SomethingNew:0x2a000000080102",
      hex: "0x2a000000080102",
    });
    expect(commitmentField(registry.createType("u32", 7))).toEqual({
      variant: "unknown",
      text: "unknown:0x07000000",
      hex: "0x07000000",
    });
  });
});
