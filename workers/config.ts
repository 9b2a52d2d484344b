/**
 * Deployment settings from the Worker's vars (wrangler.toml) and secrets: which hparams profile,
 * which subnet, which chain, the weights version key and the validator hotkey. Everything else
 * is in the hparams profile.
 */
import { EdgeError } from "../schema/errors.ts";
import { getHparams, type Hparams } from "../schema/hparams.ts";
import { DEFAULT_CHAIN_CALL_TIMEOUT_MS } from "./chain/chain-client.ts";
import { parseWeightsModePreference, type WeightsModePreference } from "./weights/weights-mode.ts";

export interface DeploymentConfig {
  readonly hparams: Hparams;
  readonly netuid: number;
  readonly chainUrl: string;
  /** CHAIN_CALL_TIMEOUT_MS: the deadline of each chain call, after which it is CHAIN_UNAVAILABLE. */
  readonly chainCallTimeoutMs: number;
  /** set_weights' version_key (u64). */
  readonly weightsVersionKey: bigint;
  /** The validator hotkey's secret URI; weights stay pending without it. */
  readonly validatorHotkeySecret: string | null;
  /** The operator's weights mode (WEIGHTS_MODE): "auto" follows the chain; any other is followed only where the chain accepts it. */
  readonly weightsMode: WeightsModePreference;
  /** WEIGHTS_MECHANISM_ID: the mechanism to weight (the `_mechanism_` timelocked call); null for the plain call. */
  readonly weightsMechanismId: number | null;
  /** The admin bearer token; without it the admin routes answer ADMIN_DISABLED. */
  readonly adminToken: string | null;
}

/** The vars this module reads; a structural subset of the generated Env. */
export interface DeploymentVars {
  readonly HPARAMS_PROFILE: string;
  readonly NETUID: string;
  readonly CHAIN_URL: string;
  /** Optional: milliseconds, 1000–120000 (10000 when unset). */
  readonly CHAIN_CALL_TIMEOUT_MS?: string;
  readonly WEIGHTS_VERSION_KEY: string;
  /** Optional: auto (default), direct, hash-commit-reveal or timelocked. */
  readonly WEIGHTS_MODE?: string;
  /** Optional: a mechanism id, 0–15. */
  readonly WEIGHTS_MECHANISM_ID?: string;
  /** A secret (`wrangler secret put`), not a var. */
  readonly VALIDATOR_HOTKEY_SECRET?: string;
  /** A secret: the bearer token of /v1/admin/*. */
  readonly ADMIN_TOKEN?: string;
}

/** Parses the deployment vars; a malformed one is CONFIG_INVALID (an operator fault, 500). */
export function deploymentConfig(vars: DeploymentVars): DeploymentConfig {
  const netuid = Number(vars.NETUID);
  if (!/^\d+$/.test(vars.NETUID) || netuid > 65535) {
    throw new EdgeError(
      "CONFIG_INVALID",
      `NETUID must be an integer in [0, 65535], got ${JSON.stringify(vars.NETUID)}`,
    );
  }
  if (!/^(https?|wss?):\/\//.test(vars.CHAIN_URL)) {
    throw new EdgeError(
      "CONFIG_INVALID",
      `CHAIN_URL must be an http(s) or ws(s) URL, got ${JSON.stringify(vars.CHAIN_URL)}`,
    );
  }
  if (!/^\d{1,20}$/.test(vars.WEIGHTS_VERSION_KEY) || BigInt(vars.WEIGHTS_VERSION_KEY) >= 2n ** 64n) {
    throw new EdgeError(
      "CONFIG_INVALID",
      `WEIGHTS_VERSION_KEY must be a u64 in decimal, got ${JSON.stringify(vars.WEIGHTS_VERSION_KEY)}`,
    );
  }
  const mecidText = vars.WEIGHTS_MECHANISM_ID?.trim() ?? "";
  if (mecidText !== "" && !(/^\d{1,2}$/.test(mecidText) && Number(mecidText) < 16)) {
    throw new EdgeError(
      "CONFIG_INVALID",
      `WEIGHTS_MECHANISM_ID must be a mechanism id in [0, 15], got ${JSON.stringify(vars.WEIGHTS_MECHANISM_ID)}`,
    );
  }
  const timeoutText = vars.CHAIN_CALL_TIMEOUT_MS?.trim() ?? "";
  const timeoutMs = timeoutText === "" ? DEFAULT_CHAIN_CALL_TIMEOUT_MS : Number(timeoutText);
  if (!/^\d*$/.test(timeoutText) || timeoutMs < 1000 || timeoutMs > 120_000) {
    throw new EdgeError(
      "CONFIG_INVALID",
      `CHAIN_CALL_TIMEOUT_MS must be milliseconds in [1000, 120000], got ${JSON.stringify(vars.CHAIN_CALL_TIMEOUT_MS)}`,
    );
  }
  return {
    hparams: getHparams(vars.HPARAMS_PROFILE),
    netuid,
    chainUrl: vars.CHAIN_URL,
    chainCallTimeoutMs: timeoutMs,
    weightsVersionKey: BigInt(vars.WEIGHTS_VERSION_KEY),
    validatorHotkeySecret: vars.VALIDATOR_HOTKEY_SECRET?.trim() || null,
    weightsMode: parseWeightsModePreference(vars.WEIGHTS_MODE),
    weightsMechanismId: mecidText === "" ? null : Number(mecidText),
    adminToken: vars.ADMIN_TOKEN?.trim() || null,
  };
}
