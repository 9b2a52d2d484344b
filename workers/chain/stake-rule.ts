/**
 * The stake a hotkey needs to set weights, computed as the chain computes it (pure: the caller
 * reads the storage), so that the validator never refuses itself a weight set the chain would take.
 *
 * The pool, the dispatch guard and the reveal all apply `check_weights_min_stake` (subtensor
 * pallets/subtensor/src/lib.rs:2752-2763): the subnet owner's hotkey passes whatever its stake;
 * any other passes if alpha + TaoWeight × root stake ≥ StakeThreshold, alpha and root stake
 * both after child-key inheritance (pallets/subtensor/src/staking/stake_utils.rs:205-228,
 * 313-452). The metagraph's TotalStake is the same sum (pallets/subtensor/src/rpc_info/
 * metagraph.rs:656-660).
 *
 * The arithmetic is the chain's fixed point, done exactly in bigint: inheritance in U96F32
 * (32 fractional bits: a proportion p of u64::MAX is floor(p·2³² / (2⁶⁴ − 1)), the result floored to
 * an integer), the weighted sum in I64F64 (64 fractional bits), compared with the integer threshold.
 * Spec 218 had another rule (its own inheritance, no TaoWeight, no owner exemption: subtensor@v1.2.4
 * pallets/subtensor/src/epoch/run_epoch.rs:34-87); the exemption came with subtensor 69627c0 (2026-03).
 */

const U64_MAX = (1n << 64n) - 1n;
/** U96F32's largest raw value (128 bits). */
const U96F32_MAX_RAW = (1n << 128n) - 1n;
/** I64F64's largest raw value (signed 128 bits). */
const I64F64_MAX_RAW = (1n << 127n) - 1n;

/** A hotkey's own stake on one netuid and its child-key links on the subnet being weighted (ChildKeys, ParentKeys). */
export interface StakeLinks {
  /** TotalHotkeyAlpha(hotkey, netuid): netuid being the subnet for alpha, root (0) for the root stake. */
  readonly own: bigint;
  /** ChildKeys(hotkey, subnet): each child's proportion, a fraction of u64::MAX. */
  readonly childProportions: readonly bigint[];
  /** ParentKeys(hotkey, subnet): each parent's proportion and its TotalHotkeyAlpha on the same netuid as `own`. */
  readonly parents: readonly { readonly proportion: bigint; readonly parentStake: bigint }[];
}

/** The stake after child-key inheritance: own − given to children + received from parents (get_inherited_for_hotkey_on_subnet). */
export function inheritedStake({ own, childProportions, parents }: StakeLinks): bigint {
  checkU64("own stake", own);
  const ownRaw = own << 32n;
  let toChildren = 0n;
  for (const p of childProportions) toChildren = saturate(toChildren + own * fraction32(p), U96F32_MAX_RAW);
  let fromParents = 0n;
  for (const { proportion, parentStake } of parents) {
    checkU64("parent stake", parentStake);
    fromParents = saturate(fromParents + parentStake * fraction32(proportion), U96F32_MAX_RAW);
  }
  const kept = ownRaw > toChildren ? ownRaw - toChildren : 0n;
  const raw = saturate(kept + fromParents, U96F32_MAX_RAW);
  return saturate(raw >> 32n, U64_MAX);
}

export interface WeightsStakeInput {
  /** The hotkey's alpha on the subnet after inheritance (`inheritedStake` of its links there). */
  readonly alphaStake: bigint;
  /** Its root stake after inheritance, through its links on this subnet (get_tao_inherited_for_hotkey_on_subnet). */
  readonly rootStake: bigint;
  /** TaoWeight: a fraction of u64::MAX. */
  readonly taoWeight: bigint;
  /** StakeThreshold. */
  readonly stakeThreshold: bigint;
  readonly hotkey: string;
  /** SubnetOwnerHotkey(netuid), null if none is set. */
  readonly subnetOwnerHotkey: string | null;
  /** Whether the hotkey holds a uid on the subnet (the exemption goes to the owner hotkey's uid). */
  readonly registered: boolean;
}

export interface WeightsStakeVerdict {
  /** Whether the chain lets this hotkey set weights as far as stake goes. */
  readonly allowed: boolean;
  /** alpha + TaoWeight × root stake, floored: the figure the threshold is compared with. */
  readonly totalStake: bigint;
  readonly reason: string;
}

/** The chain's stake rule for weights: the subnet owner's hotkey is exempt; anyone else needs alpha + TaoWeight × root ≥ StakeThreshold. */
export function weightsStakeRule(input: WeightsStakeInput): WeightsStakeVerdict {
  const { alphaStake, rootStake, taoWeight, stakeThreshold } = input;
  for (const [name, v] of [
    ["alpha stake", alphaStake],
    ["root stake", rootStake],
    ["TaoWeight", taoWeight],
    ["StakeThreshold", stakeThreshold],
  ] as const)
    checkU64(name, v);
  // I64F64: the integers saturate at 2⁶³, TaoWeight carries U96F32's 32 fractional bits.
  const alphaRaw = saturate(alphaStake << 64n, I64F64_MAX_RAW);
  const rootRaw = saturate(rootStake << 64n, I64F64_MAX_RAW);
  const weighted = saturate((rootRaw * (fraction32(taoWeight) << 32n)) >> 64n, I64F64_MAX_RAW);
  const totalRaw = saturate(alphaRaw + weighted, I64F64_MAX_RAW);
  const totalStake = totalRaw >> 64n;
  const sum = `alpha ${alphaStake} + TaoWeight × root ${rootStake} = ${totalStake}`;
  if (input.registered && input.subnetOwnerHotkey !== null && input.hotkey === input.subnetOwnerHotkey) {
    return { allowed: true, totalStake, reason: `the subnet owner's hotkey sets weights whatever its stake (${sum})` };
  }
  const allowed = totalRaw >= stakeThreshold << 64n;
  return {
    allowed,
    totalStake,
    reason: `${sum} is ${allowed ? "at or above" : "below"} StakeThreshold ${stakeThreshold}`,
  };
}

/** A proportion of u64::MAX as U96F32's raw bits: floor(p·2³² / (2⁶⁴ − 1)), as the chain's fixed-point division gives it. */
function fraction32(proportion: bigint): bigint {
  checkU64("proportion", proportion);
  return (proportion << 32n) / U64_MAX;
}

function saturate(v: bigint, max: bigint): bigint {
  return v > max ? max : v;
}

function checkU64(name: string, v: bigint): void {
  if (v < 0n || v > U64_MAX) throw new RangeError(`${name} ${v} is not a u64`);
}
