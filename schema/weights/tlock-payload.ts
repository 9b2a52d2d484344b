/**
 * The plaintext of a timelocked weights commit: SCALE `WeightsTlockPayload { hotkey: Vec<u8>,
 * uids: Vec<u16>, values: Vec<u16>, version_key: u64 }` (subtensor
 * pallets/subtensor/src/coinbase/reveal_commits.rs:21-26; bittensor-drand src/drand.rs:34-40).
 * At reveal the chain reads `hotkey` as the signer's AccountId32 and drops the commit of any
 * other account (reveal_commits.rs:137-149), so it is the raw 32-byte public key.
 */
import { compactToU8a, u8aConcat } from "@polkadot/util";

/** The weights a validator commits, as the chain will apply them at reveal. */
export interface WeightsTlockPayload {
  /** The signing hotkey's 32-byte sr25519 public key. */
  readonly hotkey: Uint8Array;
  readonly uids: readonly number[];
  /** u16 weights, one per uid, as the chain stores them (it normalizes at reveal). */
  readonly values: readonly number[];
  /** Must be at least the subnet's WeightsVersionKey, checked only at reveal. */
  readonly versionKey: bigint | number;
}

const U64_MAX = (1n << 64n) - 1n;

/** The SCALE bytes of a payload; refuses what the chain would decode differently or drop at reveal. */
export function encodeWeightsTlockPayload(p: WeightsTlockPayload): Uint8Array {
  if (p.hotkey.length !== 32) throw new RangeError(`the hotkey must be a 32-byte public key, got ${p.hotkey.length}`);
  if (p.uids.length !== p.values.length)
    // The chain would decrypt it, then drop it silently (WeightVecNotEqualSize).
    throw new RangeError(`${p.uids.length} uids but ${p.values.length} values`);
  const versionKey = BigInt(p.versionKey);
  if (versionKey < 0n || versionKey > U64_MAX) throw new RangeError(`version_key ${versionKey} is not a u64`);
  const u64 = new Uint8Array(8);
  new DataView(u64.buffer).setBigUint64(0, versionKey, true);
  return u8aConcat(compactToU8a(p.hotkey.length), p.hotkey, vecU16(p.uids, "uid"), vecU16(p.values, "value"), u64);
}

function vecU16(xs: readonly number[], what: string): Uint8Array {
  const out = new Uint8Array(2 * xs.length);
  const view = new DataView(out.buffer);
  xs.forEach((x, i) => {
    if (!Number.isInteger(x) || x < 0 || x > 0xffff) throw new RangeError(`${what} ${x} is not a u16`);
    view.setUint16(2 * i, x, true);
  });
  return u8aConcat(compactToU8a(xs.length), out);
}
