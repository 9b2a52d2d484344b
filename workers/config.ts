/**
 * Deployment settings from the Worker's vars (wrangler.toml): which hparams profile, which
 * subnet, which chain. Everything else is in the hparams profile.
 */
import { EdgeError } from "../schema/errors.ts";
import { getHparams, type Hparams } from "../schema/hparams.ts";

export interface DeploymentConfig {
  readonly hparams: Hparams;
  readonly netuid: number;
  readonly chainUrl: string;
}

/** The vars this module reads; a structural subset of the generated Env. */
export interface DeploymentVars {
  readonly HPARAMS_PROFILE: string;
  readonly NETUID: string;
  readonly CHAIN_URL: string;
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
  return { hparams: getHparams(vars.HPARAMS_PROFILE), netuid, chainUrl: vars.CHAIN_URL };
}
