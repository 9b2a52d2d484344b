// The drand round a timelocked commit is encrypted to (workers/weights/reveal-round.ts) and the epoch
// schedule under it (workers/weights/epoch-schedule.ts), every branch: the runtime API, storage with
// and without PendingEpochAt, the ≤ 422 modulo rule, P > 1, the 6-block guard, an overdue epoch,
// mechanisms, the drand clock, and the LastStoredRound floor.

import { describe, expect, it } from "vitest";
import { EdgeError } from "../../schema/errors.ts";
import { QUICKNET, quicknetRoundAt } from "../../schema/weights/drand-quicknet.ts";
import {
  type EpochSource,
  moduloEpoch,
  moduloEpochStart,
  netuidIndex,
  nextEpoch,
} from "../../workers/weights/epoch-schedule.ts";
import { type RevealRoundInput, timelockRevealRound } from "../../workers/weights/reveal-round.ts";

const G = QUICKNET.genesisSeconds;
/** The test clock: the unix time at the head that makes `target` map to drand round 1000. */
const clockFor = (target: number, head: number, round = 1000) => G + 3 * round - 12 * (target - head) + 1;

type Base = Pick<RevealRoundInput, "netuid" | "tempo" | "revealPeriodEpochs" | "lastStoredRound">;
const base: Base = { netuid: 3, tempo: 360, revealPeriodEpochs: 1, lastStoredRound: 900 };

describe("nextEpoch: the three sources", () => {
  it.each<[string, EpochSource, number, number, number]>([
    // [what, source, head, next start, period]
    ["the runtime API", { kind: "runtime-api", nextEpochStartBlock: 1200 }, 1000, 1200, 360],
    [
      "storage, nothing pending: LastEpochBlock + Tempo",
      { kind: "storage", lastEpochBlock: 900, pendingEpochAt: 0 },
      1000,
      1260,
      360,
    ],
    ["storage, PendingEpochAt sooner", { kind: "storage", lastEpochBlock: 900, pendingEpochAt: 1100 }, 1000, 1100, 360],
    ["storage, PendingEpochAt later", { kind: "storage", lastEpochBlock: 900, pendingEpochAt: 1300 }, 1000, 1260, 360],
    ["storage, overdue (deferred)", { kind: "storage", lastEpochBlock: 600, pendingEpochAt: 0 }, 1000, 960, 360],
    ["modulo: floor((h + netuid + 1) / (T + 1))", { kind: "modulo" }, 1000, 1079, 361],
    ["modulo, at an epoch's first block", { kind: "modulo" }, 1079, 1440, 361],
    ["modulo, at an epoch's last block", { kind: "modulo" }, 1078, 1079, 361],
  ])("%s", (_what, source, head, start, period) => {
    expect(nextEpoch(source, 3, 360, head)).toEqual({ startBlock: start, period });
  });

  it("numbers modulo epochs as the chain does: epoch e starts at e·(T+1) − (netuid+1)", () => {
    expect(moduloEpoch(1078, 3, 360)).toBe(2);
    expect(moduloEpoch(1079, 3, 360)).toBe(3);
    expect(moduloEpochStart(3, 3, 360)).toBe(1079);
    // tempo 10, netuid 1: epochs start at 11e − 2
    expect([0, 8, 9, 19, 20].map((b) => moduloEpoch(b, 1, 10))).toEqual([0, 0, 1, 1, 2]);
    expect(moduloEpochStart(1, 1, 10)).toBe(9);
  });

  it("refuses a tempo of 0 (a subnet that runs no epoch)", () => {
    expect(() => nextEpoch({ kind: "modulo" }, 3, 0, 10)).toThrow(RangeError);
    expect(() => nextEpoch({ kind: "runtime-api", nextEpochStartBlock: 5 }, 3, 0, 10)).toThrow(RangeError);
  });
});

describe("netuidIndex: a mechanism's storage index", () => {
  it("is netuid + mecid · 4096", () => {
    expect(netuidIndex(3, 0)).toBe(3);
    expect(netuidIndex(3, 1)).toBe(4099);
    expect(netuidIndex(3, 15)).toBe(61443);
    expect(netuidIndex(4095, 15)).toBe(65535);
    expect(() => netuidIndex(3, 16)).toThrow(RangeError);
    expect(() => netuidIndex(4096, 0)).toThrow(RangeError);
    expect(() => netuidIndex(-1, 0)).toThrow(RangeError);
  });

  it("keys storage but does not move epochs: the chain counts a mechanism's epochs by its netuid", () => {
    // The SDK passes the storage index to the modulo rule; the chain's epochs for netuid 3, mecid 1
    // are netuid 3's, and 4099 would put the next epoch elsewhere.
    const head = 1000;
    expect(nextEpoch({ kind: "modulo" }, 3, 360, head).startBlock).toBe(1079);
    expect(nextEpoch({ kind: "modulo" }, netuidIndex(3, 1), 360, head).startBlock).toBe(1315);
  });
});

describe("quicknetRoundAt: quicknet's clock (genesis 1692803367, period 3 s)", () => {
  it("maps unix seconds to rounds", () => {
    expect(quicknetRoundAt(G)).toBe(0);
    expect(quicknetRoundAt(G + 2.9)).toBe(0);
    expect(quicknetRoundAt(G + 3)).toBe(1);
    expect(quicknetRoundAt(G + 3000)).toBe(1000);
    expect(quicknetRoundAt(G + 3002)).toBe(1000);
    expect(quicknetRoundAt(1_782_000_000)).toBe(29_732_211); // mid-2026
  });
});

describe("timelockRevealRound", () => {
  const cases: [string, Omit<RevealRoundInput, "nowSeconds" | keyof Base> & Partial<Base>, number][] = [
    // [what, input, reveal epoch start]
    ["runtime API, P = 1", { head: 1000, epochs: { kind: "runtime-api", nextEpochStartBlock: 1200 } }, 1200],
    [
      "runtime API, P = 3: two more epochs of Tempo",
      { head: 1000, revealPeriodEpochs: 3, epochs: { kind: "runtime-api", nextEpochStartBlock: 1200 } },
      1920,
    ],
    ["storage, P = 1", { head: 1000, epochs: { kind: "storage", lastEpochBlock: 900, pendingEpochAt: 0 } }, 1260],
    [
      "storage with PendingEpochAt, P = 2",
      { head: 1000, revealPeriodEpochs: 2, epochs: { kind: "storage", lastEpochBlock: 900, pendingEpochAt: 1100 } },
      1460,
    ],
    ["modulo, P = 1", { head: 1000, epochs: { kind: "modulo" } }, 1079],
    [
      "modulo, P = 3: two more epochs of Tempo + 1",
      { head: 1000, revealPeriodEpochs: 3, epochs: { kind: "modulo" } },
      1801,
    ],
    ["modulo, exactly 6 blocks before the epoch", { head: 1073, epochs: { kind: "modulo" } }, 1079],
    ["modulo, at an epoch's first block", { head: 1079, epochs: { kind: "modulo" } }, 1440],
    ["modulo, another subnet", { head: 1000, netuid: 0, epochs: { kind: "modulo" } }, 1082],
  ];

  it.each(cases)("%s: aims 3 blocks into the reveal epoch; the test clock gives round 1000", (_what, input, start) => {
    const target = start + 3;
    const plan = timelockRevealRound({ ...base, ...input, nowSeconds: clockFor(target, input.head) });
    expect(plan).toMatchObject({
      kind: "commit",
      revealRound: 1000,
      revealEpochStartBlock: start,
      targetBlock: target,
    });
  });

  it("takes the round at the target block's expected time, 12 s a block from now", () => {
    const input = { ...base, head: 1000, epochs: { kind: "runtime-api", nextEpochStartBlock: 1200 } } as const;
    const now = 1_782_000_000;
    const plan = timelockRevealRound({ ...input, nowSeconds: now, lastStoredRound: 29_732_000 });
    expect(plan).toEqual({
      kind: "commit",
      revealRound: Math.floor((now + 203 * 12 - G) / 3),
      revealEpochStartBlock: 1200,
      targetBlock: 1203,
      nextEpochStartBlock: 1200,
      drandLagRounds: 29_732_211 - 29_732_000,
    });
  });

  it.each<[string, number, EpochSource, number]>([
    // [what, head, source, wait until]
    ["5 blocks left (modulo)", 1074, { kind: "modulo" }, 1079],
    ["1 block left (runtime API)", 1199, { kind: "runtime-api", nextEpochStartBlock: 1200 }, 1200],
    ["5 blocks left to PendingEpochAt", 1095, { kind: "storage", lastEpochBlock: 900, pendingEpochAt: 1100 }, 1100],
    ["the epoch is due now", 1200, { kind: "runtime-api", nextEpochStartBlock: 1200 }, 1201],
    ["the epoch is overdue (deferred)", 1000, { kind: "storage", lastEpochBlock: 600, pendingEpochAt: 0 }, 1001],
  ])("waits when fewer than 6 blocks are left: %s", (_what, head, epochs, waitUntil) => {
    const plan = timelockRevealRound({ ...base, head, epochs, nowSeconds: G + 3000 });
    expect(plan).toMatchObject({ kind: "wait", waitUntilBlock: waitUntil });
  });

  it("after the wait, the next computation lands in the following epoch", () => {
    const waited = timelockRevealRound({ ...base, head: 1074, epochs: { kind: "modulo" }, nowSeconds: G + 3000 });
    expect(waited).toMatchObject({ kind: "wait", waitUntilBlock: 1079 });
    const after = timelockRevealRound({ ...base, head: 1079, epochs: { kind: "modulo" }, nowSeconds: G + 3000 });
    expect(after).toMatchObject({ kind: "commit", revealEpochStartBlock: 1440 });
  });

  it("accepts a round equal to LastStoredRound and refuses one below it with REVEAL_ROUND_INVALID", () => {
    const input = { ...base, head: 1000, epochs: { kind: "modulo" } as const, nowSeconds: clockFor(1082, 1000) };
    expect(timelockRevealRound({ ...input, lastStoredRound: 1000 })).toMatchObject({ revealRound: 1000 });
    let thrown: unknown;
    try {
      timelockRevealRound({ ...input, lastStoredRound: 1001 });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(EdgeError);
    expect(thrown).toMatchObject({
      code: "REVEAL_ROUND_INVALID",
      details: { revealRound: 1000, lastStoredRound: 1001, targetBlock: 1082, head: 1000 },
    });
    expect((thrown as EdgeError).message).toContain("behind drand's by at least 3 s");
  });

  it("reports how far the chain's stored rounds lag drand's clock", () => {
    const input = { ...base, head: 1000, epochs: { kind: "modulo" } as const, nowSeconds: G + 3000 };
    expect(timelockRevealRound({ ...input, lastStoredRound: 976 })).toMatchObject({ drandLagRounds: 24 });
    expect(timelockRevealRound({ ...input, lastStoredRound: 1003 })).toMatchObject({ drandLagRounds: -3 }); // clock behind
  });

  it("refuses inputs that are not chain state", () => {
    const ok = { ...base, head: 1000, epochs: { kind: "modulo" } as const, nowSeconds: G + 3000 };
    expect(() => timelockRevealRound({ ...ok, revealPeriodEpochs: 0 })).toThrow(RangeError);
    expect(() => timelockRevealRound({ ...ok, head: -1 })).toThrow(RangeError);
    expect(() => timelockRevealRound({ ...ok, nowSeconds: Number.NaN })).toThrow(RangeError);
    expect(() => timelockRevealRound({ ...ok, lastStoredRound: 1.5 })).toThrow(RangeError);
    expect(() => timelockRevealRound({ ...ok, tempo: 0 })).toThrow(RangeError);
  });
});
