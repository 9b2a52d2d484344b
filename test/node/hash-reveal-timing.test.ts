// When a hash commit may be revealed (workers/weights/hash-reveal-timing.ts) and when the rate limit
// lets a set or commit through (workers/weights/rate-limit.ts), on both epoch models: the reveal is
// sent exactly in its reveal epoch, waited for before, and never retried after.
import { describe, expect, it } from "vitest";
import { type HashRevealInput, hashRevealTiming } from "../../workers/weights/hash-reveal-timing.ts";
import { commitAllowed } from "../../workers/weights/rate-limit.ts";

describe("hashRevealTiming, modulo epochs (spec ≤ 422 and 218)", () => {
  // netuid 1, tempo 10: epoch e is the blocks [11e − 2, 11e + 8]
  const at = (head: number, commitBlock: number, revealPeriodEpochs = 1): HashRevealInput => ({
    head,
    netuid: 1,
    tempo: 10,
    revealPeriodEpochs,
    epochs: { kind: "modulo" },
    commit: { kind: "block", commitBlock },
  });

  it.each<[string, HashRevealInput, ReturnType<typeof hashRevealTiming>]>([
    ["committed in epoch 0, long before epoch 1", at(3, 5), { kind: "too-early", waitUntilBlock: 8, revealEpoch: 1 }],
    ["the next block is the reveal epoch's first", at(8, 5), { kind: "now", lastBlock: 19, revealEpoch: 1 }],
    ["the next block is its last", at(18, 5), { kind: "now", lastBlock: 19, revealEpoch: 1 }],
    ["the next block is past it", at(19, 5), { kind: "expired", revealEpoch: 1 }],
    ["committed in an epoch's last block", at(8, 8), { kind: "now", lastBlock: 19, revealEpoch: 1 }],
    ["committed in an epoch's first block", at(8, 9), { kind: "too-early", waitUntilBlock: 19, revealEpoch: 2 }],
    ["P = 2", at(8, 5, 2), { kind: "too-early", waitUntilBlock: 19, revealEpoch: 2 }],
    ["P = 2, in its reveal epoch", at(25, 5, 2), { kind: "now", lastBlock: 30, revealEpoch: 2 }],
  ])("%s", (_what, input, timing) => {
    expect(hashRevealTiming(input)).toEqual(timing);
  });

  it("agrees with the chain's reveal blocks: [R·(T+1) − (netuid+1), that + T] (v3.4.7-422 get_reveal_blocks)", () => {
    // finney-like: netuid 3, tempo 360, commit in block 1000 (epoch 2) → reveal epoch 3 = blocks 1079…1439
    const input = { netuid: 3, tempo: 360, revealPeriodEpochs: 1, epochs: { kind: "modulo" } } as const;
    const commit = { kind: "block", commitBlock: 1000 } as const;
    expect(hashRevealTiming({ ...input, commit, head: 1077 })).toMatchObject({
      kind: "too-early",
      waitUntilBlock: 1078,
    });
    expect(hashRevealTiming({ ...input, commit, head: 1078 })).toEqual({
      kind: "now",
      lastBlock: 1439,
      revealEpoch: 3,
    });
    expect(hashRevealTiming({ ...input, commit, head: 1438 })).toMatchObject({ kind: "now" });
    expect(hashRevealTiming({ ...input, commit, head: 1439 })).toMatchObject({ kind: "expired" });
  });
});

describe("hashRevealTiming, stateful epochs (spec ≥ 423)", () => {
  // tempo 360; the head is in epoch 10, which started in block 1000: epoch 11 fires in block 1360
  const at = (
    head: number,
    commitEpoch: number,
    { currentEpoch = 10, ...overrides }: Partial<HashRevealInput> & { currentEpoch?: number } = {},
  ): HashRevealInput => ({
    head,
    netuid: 3,
    tempo: 360,
    revealPeriodEpochs: 1,
    epochs: { kind: "storage", lastEpochBlock: 1000, pendingEpochAt: 0 },
    commit: { kind: "epoch", commitEpoch, currentEpoch },
    ...overrides,
  });

  it.each<[string, HashRevealInput, ReturnType<typeof hashRevealTiming>]>([
    ["committed this epoch", at(1100, 10), { kind: "too-early", waitUntilBlock: 1359, revealEpoch: 11 }],
    [
      "the next block fires the reveal epoch (look-ahead)",
      at(1359, 10),
      { kind: "now", lastBlock: 1719, revealEpoch: 11 },
    ],
    [
      "inside the reveal epoch",
      at(1500, 10, { currentEpoch: 11, epochs: { kind: "storage", lastEpochBlock: 1360, pendingEpochAt: 0 } }),
      { kind: "now", lastBlock: 1719, revealEpoch: 11 },
    ],
    [
      "the next block fires the epoch after it",
      at(1719, 10, { currentEpoch: 11, epochs: { kind: "storage", lastEpochBlock: 1360, pendingEpochAt: 0 } }),
      { kind: "expired", revealEpoch: 11 },
    ],
    ["committed last epoch: now, until the next epoch", at(1100, 9), { kind: "now", lastBlock: 1359, revealEpoch: 10 }],
    ["committed two epochs ago", at(1100, 8), { kind: "expired", revealEpoch: 9 }],
    ["P = 3", at(1100, 10, { revealPeriodEpochs: 3 }), { kind: "too-early", waitUntilBlock: 2079, revealEpoch: 13 }],
    [
      "PendingEpochAt brings the reveal epoch forward",
      at(1100, 10, { epochs: { kind: "storage", lastEpochBlock: 1000, pendingEpochAt: 1200 } }),
      { kind: "too-early", waitUntilBlock: 1199, revealEpoch: 11 },
    ],
    [
      "… and the reveal epoch then lasts a tempo from its start",
      at(1199, 10, { epochs: { kind: "storage", lastEpochBlock: 1000, pendingEpochAt: 1200 } }),
      { kind: "now", lastBlock: 1559, revealEpoch: 11 },
    ],
    [
      "the runtime API's next start",
      at(1100, 10, { epochs: { kind: "runtime-api", nextEpochStartBlock: 1360 } }),
      { kind: "too-early", waitUntilBlock: 1359, revealEpoch: 11 },
    ],
    [
      "an overdue (deferred) epoch fires in the next block",
      at(1400, 10, { epochs: { kind: "runtime-api", nextEpochStartBlock: 1360 } }),
      { kind: "now", lastBlock: 1760, revealEpoch: 11 },
    ],
  ])("%s", (_what, input, timing) => {
    expect(hashRevealTiming(input)).toEqual(timing);
  });

  it("refuses a commit counted in the other model, and inputs that are not chain state", () => {
    const stateful = at(1100, 10);
    expect(() => hashRevealTiming({ ...stateful, commit: { kind: "block", commitBlock: 5 } })).toThrow(RangeError);
    expect(() => hashRevealTiming({ ...stateful, epochs: { kind: "modulo" } })).toThrow(RangeError);
    expect(() => hashRevealTiming({ ...stateful, revealPeriodEpochs: 0 })).toThrow(RangeError);
    expect(() => hashRevealTiming({ ...stateful, head: -1 })).toThrow(RangeError);
    expect(() => hashRevealTiming({ ...stateful, tempo: 0 })).toThrow(RangeError);
  });
});

describe("commitAllowed: WeightsSetRateLimit against LastUpdate", () => {
  it.each<[string, number, number, number, ReturnType<typeof commitAllowed>]>([
    // [what, head, rate limit, last update, answer]
    ["never set: always", 5, 100, 0, { allowed: true }],
    ["one block short: the next block is the first allowed", 1098, 100, 1000, { allowed: false, waitUntilBlock: 1099 }],
    ["long before", 1010, 100, 1000, { allowed: false, waitUntilBlock: 1099 }],
    ["the next block is exactly the limit", 1099, 100, 1000, { allowed: true }],
    ["well after", 1500, 100, 1000, { allowed: true }],
    ["no limit", 1000, 0, 1000, { allowed: true }],
  ])("%s", (_what, head, rateLimitBlocks, lastUpdateBlock, answer) => {
    expect(commitAllowed({ head, rateLimitBlocks, lastUpdateBlock })).toEqual(answer);
  });

  it("refuses inputs that are not block counts", () => {
    expect(() => commitAllowed({ head: -1, rateLimitBlocks: 1, lastUpdateBlock: 0 })).toThrow(RangeError);
    expect(() => commitAllowed({ head: 1, rateLimitBlocks: 1.5, lastUpdateBlock: 0 })).toThrow(RangeError);
    expect(() => commitAllowed({ head: 1, rateLimitBlocks: 1, lastUpdateBlock: Number.NaN })).toThrow(RangeError);
  });
});
