/** Miners with real sr25519 hotkeys, and their signed upload requests (docs/SPEC.md §5). */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { encodeAddress } from "@polkadot/util-crypto";
import { getPublicKey, secretFromSeed, sign } from "@scure/sr25519";
import { signedMessage } from "../../../schema/upload/upload-claim.ts";
import type { NeuronInfo } from "../../../workers/chain/chain-client.ts";

export const NETUID = 2; // wrangler.toml's local NETUID

export interface Miner {
  readonly uid: number;
  readonly hotkey: string;
  readonly secret: Uint8Array;
}

/** A miner whose hotkey is derived from its name (so every test run has the same keys). */
export function miner(uid: number, name = `miner-${uid}`): Miner {
  const secret = secretFromSeed(sha256(new TextEncoder().encode(name)));
  return { uid, hotkey: encodeAddress(getPublicKey(secret), 42), secret };
}

/** The metagraph entry of a miner. */
export function neuronOf(m: Miner): NeuronInfo {
  return {
    uid: m.uid,
    hotkey: m.hotkey,
    coldkey: m.hotkey,
    stakeRao: 0n,
    validatorPermit: false,
    registrationBlock: 1,
  };
}

export const hex = (bytes: Uint8Array) => bytesToHex(bytes);

/** The signature a miner sends for an upload. */
export function signUpload(
  m: Miner,
  at: { netuid?: number; window: number; uid: number; sha256: string; size: number },
): string {
  return `0x${hex(sign(m.secret, signedMessage({ ...at, netuid: at.netuid ?? NETUID })))}`;
}

export interface SignedHeaders {
  readonly "X-Templar-Hotkey": string;
  readonly "X-Templar-Sha256": string;
  readonly "X-Templar-Signature": string;
}

/** The headers of an upload of `file` by `m` for a window, signed honestly unless told otherwise. */
export function uploadHeaders(
  m: Miner,
  window: number,
  file: Uint8Array,
  opts: { uid?: number; signer?: Miner; claimedSha?: string; netuid?: number } = {},
): SignedHeaders {
  const sha = opts.claimedSha ?? hex(sha256(file));
  const uid = opts.uid ?? m.uid;
  return {
    "X-Templar-Hotkey": m.hotkey,
    "X-Templar-Sha256": sha,
    "X-Templar-Signature": signUpload(opts.signer ?? m, {
      netuid: opts.netuid,
      window,
      uid,
      sha256: sha,
      size: file.length,
    }),
  };
}
