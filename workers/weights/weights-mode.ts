/**
 * How the validator sends a weight set, chosen from what it read of the chain for that set; pure.
 *
 * - `direct`: `set_weights`. The only way while the subnet has commit-reveal off: both commit calls
 *   then fail with CommitRevealDisabled (subtensor pallets/subtensor/src/subnets/weights.rs:78-82,
 *   316-320).
 * - `timelocked`: one `commit_timelocked_weights`, encrypted to a drand round; the chain reveals it
 *   (what the bittensor SDK sends). The default while commit-reveal is on, if the runtime has the
 *   call: `set_weights` then fails with CommitRevealEnabled (subtensor pallets/subtensor/src/macros/
 *   dispatches.rs:93,173).
 * - `hash-commit-reveal`: `commit_weights`, then `reveal_weights` in the reveal epoch. While
 *   commit-reveal is on, for a runtime without timelocked commits (spec 218), or when the operator
 *   prefers it (it does not depend on drand's pulses reaching the chain).
 *
 * CommitRevealWeightsEnabled defaults to true and subnet owners toggle it, so it is read for every
 * weight set (subtensor pallets/subtensor/src/lib.rs:965, pallets/admin-utils/src/lib.rs:1199).
 */
import { EdgeError } from "../../schema/errors.ts";

export const WEIGHTS_MODES = ["direct", "hash-commit-reveal", "timelocked"] as const;
export type WeightsMode = (typeof WEIGHTS_MODES)[number];
/** An operator's preference: a mode, or "auto" to follow the chain. */
export type WeightsModePreference = WeightsMode | "auto";

export interface WeightsModeInput {
  /** SubtensorModule.CommitRevealWeightsEnabled(netuid). */
  readonly commitRevealEnabled: boolean;
  /**
   * Whether the runtime's metadata has the timelocked commit the validator would send:
   * `commit_timelocked_weights`, or `commit_timelocked_mechanism_weights` for a mechanism other than 0.
   */
  readonly timelockedCallAvailable: boolean;
  /** The operator's preference; followed only where the chain accepts that mode. */
  readonly preference?: WeightsModePreference;
}

export interface WeightsModeChoice {
  readonly mode: WeightsMode;
  /** Why, as a sentence for the log, the dry run and the status page. */
  readonly reason: string;
  /** True when the operator asked for another mode, which the chain would refuse now. */
  readonly preferenceIgnored: boolean;
}

/** The mode for this weight set, from what was read of the chain (and the operator's preference), with the reason. */
export function chooseWeightsMode({
  commitRevealEnabled,
  timelockedCallAvailable,
  preference = "auto",
}: WeightsModeInput): WeightsModeChoice {
  const asked = preference === "auto" ? "" : `the operator asked for ${preference}, but `;
  if (!commitRevealEnabled) {
    const ignored = preference !== "auto" && preference !== "direct";
    return {
      mode: "direct",
      reason: `${ignored ? asked : ""}commit-reveal is off on this subnet, so the chain takes set_weights and refuses commits.`,
      preferenceIgnored: ignored,
    };
  }
  if (preference === "hash-commit-reveal") {
    return {
      mode: "hash-commit-reveal",
      reason:
        "commit-reveal is on and the operator asked for hash commit-reveal: commit_weights, then reveal_weights in the reveal epoch.",
      preferenceIgnored: false,
    };
  }
  if (timelockedCallAvailable) {
    const ignored = preference === "direct";
    return {
      mode: "timelocked",
      reason: `${ignored ? `${asked}set_weights fails while commit-reveal is on; ` : "commit-reveal is on and "}the runtime has timelocked commits: one commit encrypted to a drand round, revealed by the chain.`,
      preferenceIgnored: ignored,
    };
  }
  const ignored = preference === "direct" || preference === "timelocked";
  const why =
    preference === "direct"
      ? "set_weights fails while commit-reveal is on and the runtime has no timelocked commits"
      : "commit-reveal is on and the runtime has no timelocked commits";
  return {
    mode: "hash-commit-reveal",
    reason: `${ignored ? asked : ""}${why}: commit_weights, then reveal_weights in the reveal epoch.`,
    preferenceIgnored: ignored,
  };
}

/** The operator's preference from a setting's text ("" or absent: auto); anything else is CONFIG_INVALID. */
export function parseWeightsModePreference(text: string | undefined): WeightsModePreference {
  const value = (text ?? "").trim();
  if (value === "" || value === "auto") return "auto";
  if ((WEIGHTS_MODES as readonly string[]).includes(value)) return value as WeightsMode;
  throw new EdgeError("CONFIG_INVALID", `weights mode "${value}" is not one of auto, ${WEIGHTS_MODES.join(", ")}`);
}
