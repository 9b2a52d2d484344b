// The chain's stake rule for weights (workers/chain/stake-rule.ts): child-key inheritance in U96F32,
// alpha + TaoWeight × root in I64F64 against StakeThreshold, and the subnet owner's exemption. The
// expected figures are worked by hand from the fixed-point definitions in the module's comment.
import { describe, expect, it } from "vitest";
import { inheritedStake, type WeightsStakeInput, weightsStakeRule } from "../../workers/chain/stake-rule.ts";

const U64_MAX = (1n << 64n) - 1n;
const HALF = U64_MAX / 2n; // 2⁶³ − 1: 2³¹ − 1 in U96F32's 32 fractional bits, a hair under one half
const THIRD = U64_MAX / 3n; // 1431655765 / 2³²
/** finney's TaoWeight: subtensor runtime/src/lib.rs:1031 (≈ 0.0527). */
const FINNEY_TAO_WEIGHT = 971_718_665_099_567_868n;
const TAO = 1_000_000_000n;

describe("inheritedStake", () => {
  it.each<[string, Parameters<typeof inheritedStake>[0], bigint]>([
    ["no links: its own stake", { own: 1000n, childProportions: [], parents: [] }, 1000n],
    ["all of it to a child", { own: 1000n, childProportions: [U64_MAX], parents: [] }, 0n],
    // 1000·2³² − 1000·(2³¹ − 1) = 1000·(2³¹ + 1) → floor(/2³²) = 500
    ["half to a child", { own: 1000n, childProportions: [HALF], parents: [] }, 500n],
    // 3·2³² − 3·1431655765 = 2·2³² + 1 → 2
    ["a third to a child, floored", { own: 3n, childProportions: [THIRD], parents: [] }, 2n],
    ["two children", { own: 1000n, childProportions: [HALF, HALF], parents: [] }, 0n],
    [
      "more than all to children: none left, not negative",
      { own: 10n, childProportions: [U64_MAX, U64_MAX], parents: [] },
      0n,
    ],
    [
      "all of a parent's",
      { own: 0n, childProportions: [], parents: [{ proportion: U64_MAX, parentStake: 5000n }] },
      5000n,
    ],
    // 7·1431655765 = 10021590355 → /2³² = 2.33 → 2
    [
      "a third of a parent's, floored",
      { own: 0n, childProportions: [], parents: [{ proportion: THIRD, parentStake: 7n }] },
      2n,
    ],
    [
      "own, minus a child, plus two parents",
      {
        own: 1000n,
        childProportions: [HALF],
        parents: [
          { proportion: HALF, parentStake: 2000n },
          { proportion: U64_MAX, parentStake: 10n },
        ],
      },
      // 1000·(2³¹ + 1) + 2000·(2³¹ − 1) + 10·2³² = 1510·2³² − 1000 → 1509
      1509n,
    ],
  ])("%s", (_what, links, expected) => {
    expect(inheritedStake(links)).toBe(expected);
  });

  it("refuses values that are not u64", () => {
    expect(() => inheritedStake({ own: -1n, childProportions: [], parents: [] })).toThrow(RangeError);
    expect(() => inheritedStake({ own: 1n, childProportions: [U64_MAX + 1n], parents: [] })).toThrow(RangeError);
    expect(() =>
      inheritedStake({ own: 1n, childProportions: [], parents: [{ proportion: 1n, parentStake: -5n }] }),
    ).toThrow(RangeError);
  });
});

describe("weightsStakeRule", () => {
  const validator = "5Validator";
  const base: WeightsStakeInput = {
    alphaStake: 0n,
    rootStake: 0n,
    taoWeight: 0n,
    stakeThreshold: 1000n,
    hotkey: validator,
    subnetOwnerHotkey: "5Owner",
    registered: true,
  };

  it.each<[string, Partial<WeightsStakeInput>, boolean, bigint]>([
    // [what, input, allowed, total]
    ["alpha at the threshold", { alphaStake: 1000n }, true, 1000n],
    ["alpha one below", { alphaStake: 999n }, false, 999n],
    ["no threshold", { stakeThreshold: 0n }, true, 0n],
    ["root stake at TaoWeight 1", { rootStake: 1000n, taoWeight: U64_MAX }, true, 1000n],
    ["root stake alone, TaoWeight 0", { rootStake: 1_000_000n }, false, 0n],
    // 1_000_000 · (2³¹ − 1) / 2³² = 499999.9997… : below 500000, as the chain's fixed point has it
    [
      "the chain's rounding, a hair under",
      { rootStake: 1_000_000n, taoWeight: HALF, stakeThreshold: 500_000n },
      false,
      499_999n,
    ],
    [
      "one rao of alpha makes it",
      { alphaStake: 1n, rootStake: 1_000_000n, taoWeight: HALF, stakeThreshold: 500_000n },
      true,
      500_000n,
    ],
    [
      // TaoWeight in 32 fractional bits: 226245882 / 2³²; floor(10¹² · 226245882 / 2³²), 57 rao under the real product
      "finney's TaoWeight: 1000 TAO of root stake counts as ≈ 52.68 TAO",
      { rootStake: 1000n * TAO, taoWeight: FINNEY_TAO_WEIGHT, stakeThreshold: 52n * TAO },
      true,
      52_676_974_330n,
    ],
  ])("%s", (_what, input, allowed, total) => {
    const verdict = weightsStakeRule({ ...base, ...input });
    expect(verdict.allowed).toBe(allowed);
    expect(verdict.totalStake).toBe(total);
    expect(verdict.reason).toContain(allowed ? "at or above StakeThreshold" : "below StakeThreshold");
  });

  it("accepts a validator with root stake and no alpha, whom an alpha-only check would refuse", () => {
    const input = {
      ...base,
      alphaStake: 0n,
      rootStake: 100_000n * TAO,
      taoWeight: FINNEY_TAO_WEIGHT,
      stakeThreshold: 1000n * TAO,
    };
    expect(input.alphaStake >= input.stakeThreshold).toBe(false);
    expect(weightsStakeRule(input).allowed).toBe(true);
  });

  it("exempts the subnet owner's hotkey when it holds a uid, and no one else", () => {
    const owner = { ...base, hotkey: "5Owner" };
    expect(weightsStakeRule(owner)).toMatchObject({ allowed: true, totalStake: 0n });
    expect(weightsStakeRule(owner).reason).toMatch(/^the subnet owner's hotkey/);
    expect(weightsStakeRule({ ...owner, registered: false }).allowed).toBe(false);
    expect(weightsStakeRule({ ...owner, subnetOwnerHotkey: null }).allowed).toBe(false);
    expect(weightsStakeRule({ ...base, subnetOwnerHotkey: "5Someone" }).allowed).toBe(false);
  });

  it("saturates as I64F64 does, and refuses values that are not u64", () => {
    const huge = weightsStakeRule({
      ...base,
      alphaStake: U64_MAX,
      rootStake: U64_MAX,
      taoWeight: U64_MAX,
      stakeThreshold: U64_MAX,
    });
    expect(huge.totalStake).toBe((1n << 63n) - 1n);
    expect(huge.allowed).toBe(false); // the chain's I64F64 cannot reach u64::MAX
    expect(() => weightsStakeRule({ ...base, alphaStake: -1n })).toThrow(RangeError);
    expect(() => weightsStakeRule({ ...base, taoWeight: U64_MAX + 1n })).toThrow(RangeError);
  });
});
