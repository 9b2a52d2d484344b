/**
 * The hash a weights commit binds (hash-based commit-reveal: `commit_weights` then
 * `reveal_weights`). Subtensor recomputes it at reveal as
 * `BlakeTwo256::hash_of(&(hotkey, netuid, uids, values, salt, version_key))`, so the encoding
 * here must be exactly that tuple's SCALE encoding. A standalone registry: no api or metadata needed.
 */
import { TypeRegistry } from "@polkadot/types";
import { blake2AsHex } from "@polkadot/util-crypto";
import type { RevealCall } from "./chain-client.ts";

const COMMIT_TUPLE = "(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)";
let registry: TypeRegistry | undefined;

/** 0x-hex blake2-256 of SCALE (AccountId32 hotkey, u16 netuid, Vec<u16> uids, Vec<u16> values, Vec<u16> salt, u64 version_key). */
export function commitHash(hotkeySs58: string, call: RevealCall): string {
  registry ??= new TypeRegistry();
  const encoded = registry
    .createType(COMMIT_TUPLE, [hotkeySs58, call.netuid, call.uids, call.values, call.salt, call.versionKey])
    .toU8a();
  return blake2AsHex(encoded, 256);
}

/** A fresh salt of `words` random u16 words: without one, a commit of a guessable vector could be read early. */
export function randomSalt(words = 8): number[] {
  return Array.from(crypto.getRandomValues(new Uint16Array(words)));
}
