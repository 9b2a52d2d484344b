/**
 * The fake node's `SubnetInfoRuntimeApi_get_selective_metagraph`: the arguments decoded and the
 * result encoded with the runtime API's own types from the spec-393 metadata (v16), the values
 * read from the block's storage as the runtime does (subtensor@v3.4.7-422
 * pallets/subtensor/src/rpc_info/metagraph.rs:841-855, and the per-index arms of
 * get_single_selective_metagraph, 878-1429).
 *
 * Only the indexes a validator reads are modelled; asking for any other is an error, so that a
 * client asking for more than the fake knows fails loudly instead of reading an empty field.
 * Child-key inheritance is not modelled (as in chain.ts): alpha and root stake are the hotkey's own.
 */
import type { Codec } from "@polkadot/types/types";
import { hexToU8a, u8aToHex } from "@polkadot/util";
import type { FinneyRuntime, StorageMap } from "./runtime.ts";

export const SELECTIVE_METAGRAPH = "SubnetInfoRuntimeApi_get_selective_metagraph";

const SM = "subtensorModule";
const U64_MAX = (1n << 64n) - 1n;

/** The SCALE result of get_selective_metagraph(netuid, indexes) at a block whose state is `state`. */
export function selectiveMetagraph(runtime: FinneyRuntime, state: StorageMap, data: string): string {
  const { registry } = runtime;
  const method = runtime.metadata.asLatest.apis
    .find((a) => a.name.toString() === "SubnetInfoRuntimeApi")
    ?.methods.find((m) => m.name.toString() === "get_selective_metagraph");
  if (!method) throw new Error("the metadata has no SubnetInfoRuntimeApi.get_selective_metagraph");
  const [netuidType, indexesType] = method.inputs.map((i) => registry.createLookupType(i.type));
  const bytes = hexToU8a(data);
  const netuidCodec = registry.createType(netuidType as string, bytes);
  const indexes = registry.createType(indexesType as string, bytes.subarray(netuidCodec.encodedLength));
  const netuid = Number(netuidCodec.toString());
  const output = registry.createLookupType(method.output);

  const read = (item: string, ...keys: unknown[]): Codec =>
    runtime.decode(SM, item, state.get(runtime.key(SM, item, ...keys)));
  const big = (item: string, ...keys: unknown[]) => BigInt(read(item, ...keys).toString());
  // if_subnet_exist (metagraph.rs:845): None for a netuid never added.
  if (read("networksAdded", netuid).toJSON() !== true) return u8aToHex(registry.createType(output).toU8a());

  const n = Number(read("subnetworkN", netuid).toString());
  const uids = Array.from({ length: n }, (_, uid) => uid);
  const hotkeys = uids.map((uid) => read("keys", netuid, uid).toString());
  // get_stake_weights_for_network (subtensor@v3.4.7-422 pallets/subtensor/src/staking/stake_utils.rs:232-283;
  // get_tao_weight, 159-169): total = alpha + tao × tao_weight in I64F64, tao_weight = TaoWeight / u64::MAX
  // as U96F32 (32 fractional bits), floored to a u64 by fixed64_to_u64.
  const taoWeight32 = (big("taoWeight") << 32n) / U64_MAX;
  const alpha = hotkeys.map((h) => big("totalHotkeyAlpha", h, netuid));
  const tao = hotkeys.map((h) => big("totalHotkeyAlpha", h, 0));
  const fields: Record<number, [string, () => unknown]> = {
    0: ["netuid", () => netuid],
    8: ["tempo", () => read("tempo", netuid).toJSON()],
    26: ["weights_version", () => big("weightsVersionKey", netuid)],
    27: ["weights_rate_limit", () => big("weightsSetRateLimit", netuid)],
    46: ["commit_reveal_weights_enabled", () => read("commitRevealWeightsEnabled", netuid).toJSON()],
    47: ["commit_reveal_period", () => big("revealPeriodEpochs", netuid)],
    52: ["hotkeys", () => hotkeys],
    53: ["coldkeys", () => hotkeys.map((h) => read("owner", h).toString())],
    57: ["validator_permit", () => read("validatorPermit", netuid).toJSON()],
    59: ["last_update", () => read("lastUpdate", netuid).toJSON()],
    66: ["block_at_registration", () => uids.map((uid) => big("blockAtRegistration", netuid, uid))],
    67: ["alpha_stake", () => alpha],
    68: ["tao_stake", () => tao],
    69: ["total_stake", () => alpha.map((a, i) => a + (((tao[i] as bigint) * taoWeight32) >> 32n))],
  };
  // Default leaves every field None; each arm sets netuid and its own field.
  const value: Record<string, unknown> = { netuid };
  for (const index of indexes as unknown as Iterable<Codec>) {
    const field = fields[Number(index.toString())];
    if (!field) throw new Error(`the fake node does not model selective metagraph index ${index.toString()}`);
    value[field[0]] = field[1]();
  }
  return u8aToHex(registry.createType(output, value).toU8a());
}
