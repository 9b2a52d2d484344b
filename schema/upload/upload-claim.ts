/**
 * What an upload claims and how its signature is checked (docs/SPEC.md §5.1): the hotkey signs
 * `templar-edge/v1/gradient|{netuid}|{window}|{uid}|{sha256}|{size}` with sr25519 ("substrate"
 * context, raw bytes). The miner signs with it and the validator verifies with it. Pure JS
 * crypto: workerd cannot compile wasm.
 */
import { decodeAddress, encodeAddress } from "@polkadot/util-crypto";
import { verify } from "@scure/sr25519";
import { EdgeError } from "../errors.ts";

export const SIGNED_MESSAGE_PREFIX = "templar-edge/v1/gradient";

export interface UploadClaim {
  readonly netuid: number;
  readonly window: number;
  readonly uid: number;
  /** ss58 with prefix 42, whatever prefix the request used. */
  readonly hotkey: string;
  readonly publicKey: Uint8Array;
  /** Lowercase hex SHA-256 of the whole file. */
  readonly sha256: string;
  readonly size: number;
  /** 0x + 128 lowercase hex digits. */
  readonly signature: string;
}

/** The exact bytes a hotkey signs for an upload. */
export function signedMessage(c: Pick<UploadClaim, "netuid" | "window" | "uid" | "sha256" | "size">): Uint8Array {
  return new TextEncoder().encode(`${SIGNED_MESSAGE_PREFIX}|${c.netuid}|${c.window}|${c.uid}|${c.sha256}|${c.size}`);
}

/** The 32-byte public key of an ss58 address, and the address in prefix 42. */
export function parseHotkey(address: string): { hotkey: string; publicKey: Uint8Array } {
  let publicKey: Uint8Array;
  try {
    publicKey = decodeAddress(address);
  } catch {
    throw new EdgeError("SIGNATURE_INVALID", `X-Templar-Hotkey ${JSON.stringify(address)} is not an ss58 address`);
  }
  if (publicKey.length !== 32)
    throw new EdgeError("SIGNATURE_INVALID", "X-Templar-Hotkey is not a 32-byte sr25519 key");
  return { hotkey: encodeAddress(publicKey, 42), publicKey };
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

/** Throws SIGNATURE_INVALID unless the claim's signature verifies for its hotkey. */
export function verifyClaim(claim: UploadClaim): void {
  let ok = false;
  try {
    ok = verify(signedMessage(claim), hexBytes(claim.signature), claim.publicKey);
  } catch {
    ok = false; // malformed points or a missing schnorrkel marker: not a signature
  }
  if (!ok) {
    throw new EdgeError(
      "SIGNATURE_INVALID",
      `the signature does not verify for ${claim.hotkey} over ${new TextDecoder().decode(signedMessage(claim))}`,
    );
  }
}
