/**
 * A commitment field (pallet_commitments `Data`, decoded with the runtime's own metadata) as text.
 *
 * The variants (subtensor pallets/commitments/src/types.rs:42-68): `None`; `Raw0`…`Raw128`, the
 * bytes themselves; the 32-byte digests `BlakeTwo256`, `Sha256`, `Keccak256`, `ShaThree256`; and
 * on newer runtimes `TimelockEncrypted { encrypted, reveal_round }`, `ResetBondsFlag` and
 * `BigRaw` (up to 512 bytes). Raw bytes that are valid UTF-8 read as themselves (a Templar
 * commitment is text); anything else gets a labelled form, so a reader never mistakes a digest or
 * a ciphertext for what a miner wrote. A variant this code does not know (a later runtime's) is
 * labelled with its name and bytes: reading commitments never fails on one field.
 */
import type { Codec } from "@polkadot/types/types";
import { u8aToHex } from "@polkadot/util";
import type { CommitmentField } from "./chain-client.ts";

/** The digest variants and the label their text carries. */
const DIGESTS: Readonly<Record<string, string>> = {
  BlakeTwo256: "blake2-256",
  Sha256: "sha256",
  Keccak256: "keccak-256",
  ShaThree256: "sha3-256",
};

/** An enum codec as @polkadot/types builds it from the metadata: the variant's name and its value. */
interface DataEnum extends Codec {
  readonly type: string;
  readonly value: Codec;
}

/** Decodes one `Data` value; never throws. */
export function commitmentField(data: Codec): CommitmentField {
  const { type: variant, value } = data as DataEnum;
  if (typeof variant !== "string") return labelled("unknown", data.toU8a());
  if (variant === "None") return { variant, text: "", hex: "0x" };
  if (variant === "ResetBondsFlag") return { variant, text: "reset-bonds", hex: "0x" };
  if (/^Raw\d+$/.test(variant) || variant === "BigRaw") {
    const bytes = value.toU8a(true);
    const text = utf8(bytes);
    return { variant, text: text ?? `raw:${u8aToHex(bytes)}`, hex: u8aToHex(bytes) };
  }
  const digest = DIGESTS[variant];
  if (digest) {
    const hex = u8aToHex(value.toU8a(true));
    return { variant, text: `${digest}:${hex}`, hex };
  }
  if (variant === "TimelockEncrypted") {
    const { encrypted, revealRound } = value as Codec & { encrypted?: Codec; revealRound?: Codec };
    if (encrypted && revealRound) {
      const hex = u8aToHex(encrypted.toU8a(true));
      const round = Number(revealRound.toString());
      return { variant, text: `timelock-encrypted(round ${round}):${hex}`, hex, revealRound: round };
    }
  }
  return labelled(variant, value?.toU8a() ?? new Uint8Array());
}

/** A variant read only as its name and SCALE bytes. */
function labelled(variant: string, bytes: Uint8Array): CommitmentField {
  const hex = u8aToHex(bytes);
  return { variant, text: `${variant}:${hex}`, hex };
}

/** The bytes as text if they are valid UTF-8, else null. */
function utf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}
