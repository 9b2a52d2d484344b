/**
 * The metagraph in one runtime call: `SubnetInfoRuntimeApi.get_selective_metagraph(netuid,
 * indexes)` (subtensor pallets/subtensor/runtime-api/src/lib.rs:58), which fills only the fields
 * whose indexes are asked for (pallets/subtensor/src/rpc_info/metagraph.rs:841-855).
 *
 * Used only where the runtime's metadata (v15 and later carry the runtime APIs) types its result
 * as `Option<SelectiveMetagraph>` with each field needed at its index: older runtimes (spec 218)
 * lack the method or return raw `Vec<u8>`, and the caller then reads storage. The indexes are
 * `SelectiveMetagraphIndex::from_index` (metagraph.rs:543-621), equal to the fields' positions in
 * the struct (metagraph.rs:115-216); the metadata is checked against them before each use.
 */
import type { ApiDecoration } from "@polkadot/api/types";
import type { Codec, Registry } from "@polkadot/types/types";
import type { NeuronInfo } from "./chain-client.ts";

const API = "SubnetInfoRuntimeApi";
const METHOD = "get_selective_metagraph";

/** The fields read and their indexes (metagraph.rs:597-614). */
const FIELDS = {
  hotkeys: 52,
  coldkeys: 53,
  validator_permit: 57,
  block_at_registration: 66,
  // alpha + TaoWeight × root, after inheritance (staking/stake_utils.rs:233-284), floored to an integer.
  total_stake: 69,
} as const;

type FieldName = keyof typeof FIELDS;

/** Whether the runtime's metadata has get_selective_metagraph returning the struct with every field needed at its index. */
export function hasSelectiveMetagraph(registry: Registry): boolean {
  const metadata = registry.metadata as unknown as { apis?: readonly RuntimeApiMeta[] };
  const method = metadata.apis
    ?.find((a) => a.name.toString() === API)
    ?.methods.find((m) => m.name.toString() === METHOD);
  if (!method) return false;
  const lookup = registry.lookup;
  const option = lookup.getSiType(method.output);
  const inner = option.params[0]?.type;
  if (option.path.at(-1)?.toString() !== "Option" || !inner || inner.isNone) return false;
  const struct = lookup.getSiType(inner.unwrap()).def;
  if (!struct.isComposite) return false;
  const names = struct.asComposite.fields.map((f) => f.name.toString());
  return Object.entries(FIELDS).every(([name, index]) => names[index] === name);
}

/**
 * Every uid of the subnet through the runtime API, at the block `at` is for; null where the
 * runtime lacks it (read storage instead). A subnet the runtime does not know has no uids.
 */
export async function selectiveNeurons(at: ApiDecoration<"promise">, netuid: number): Promise<NeuronInfo[] | null> {
  if (!hasSelectiveMetagraph(at.registry)) return null;
  const call = (at.call as Record<string, Record<string, unknown> | undefined>).subnetInfoRuntimeApi
    ?.getSelectiveMetagraph as ((netuid: number, indexes: number[]) => Promise<Codec>) | undefined;
  if (!call) return null;
  const result = (await call(netuid, Object.values(FIELDS))) as OptionCodec;
  if (result.isNone) return [];
  const metagraph = result.unwrap() as unknown as Record<string, OptionCodec | undefined>;
  const field = (name: FieldName): Codec[] => {
    const value = metagraph[camel(name)];
    if (!value || value.isNone) throw new Error(`get_selective_metagraph left ${name} (index ${FIELDS[name]}) empty`);
    return [...(value.unwrap() as unknown as Iterable<Codec>)];
  };
  const hotkeys = field("hotkeys");
  const coldkeys = field("coldkeys");
  const permits = field("validator_permit");
  const registered = field("block_at_registration");
  const stakes = field("total_stake");
  // Each vector has one entry per uid, 0 … SubnetworkN − 1 (metagraph.rs:1188-1378).
  for (const [name, list] of [
    ["coldkeys", coldkeys],
    ["block_at_registration", registered],
    ["total_stake", stakes],
  ] as const)
    if (list.length !== hotkeys.length)
      throw new Error(`get_selective_metagraph: ${hotkeys.length} hotkeys but ${list.length} ${name}`);
  return hotkeys.map((hotkey, uid) => ({
    uid,
    hotkey: hotkey.toString(),
    coldkey: String(coldkeys[uid]),
    stakeRao: BigInt(String(stakes[uid])),
    // As the storage path reads it: a uid past the end of ValidatorPermit has no permit.
    validatorPermit: permits[uid]?.toJSON() === true,
    registrationBlock: Number(String(registered[uid])),
  }));
}

interface RuntimeApiMeta {
  readonly name: Codec;
  readonly methods: readonly {
    readonly name: Codec;
    readonly output: Parameters<Registry["lookup"]["getSiType"]>[0];
  }[];
}

interface OptionCodec extends Codec {
  readonly isNone: boolean;
  unwrap(): Codec;
}

/** A struct field's getter, as @polkadot/types names it (snake_case → camelCase). */
function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
