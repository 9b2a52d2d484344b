/**
 * Deployment settings from the Worker's vars (wrangler.toml) and secrets: which hparams profile,
 * which subnet, which chain, the weights version key and the validator hotkey. Everything else
 * is in the hparams profile.
 */
import { EdgeError } from "../schema/errors.ts";
import { getHparams, type Hparams } from "../schema/hparams.ts";

export interface DeploymentConfig {
  readonly hparams: Hparams;
  readonly netuid: number;
  readonly chainUrl: string;
  /** set_weights' version_key (u64). */
  readonly weightsVersionKey: bigint;
  /** The validator hotkey's secret URI; weights stay pending without it. */
  readonly validatorHotkeySecret: string | null;
  /** The admin bearer token; without it the admin routes answer ADMIN_DISABLED. */
  readonly adminToken: string | null;
}

/** The vars this module reads; a structural subset of the generated Env. */
export interface DeploymentVars {
  readonly HPARAMS_PROFILE: string;
  readonly NETUID: string;
  readonly CHAIN_URL: string;
  readonly WEIGHTS_VERSION_KEY: string;
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
  return {
    hparams: getHparams(vars.HPARAMS_PROFILE),
    netuid,
    chainUrl: vars.CHAIN_URL,
    weightsVersionKey: BigInt(vars.WEIGHTS_VERSION_KEY),
    validatorHotkeySecret: vars.VALIDATOR_HOTKEY_SECRET?.trim() || null,
    adminToken: vars.ADMIN_TOKEN?.trim() || null,
  };
}
