/**
 * An sr25519 hotkey from its secret URI, in pure JS (the validator's, which signs weights; a
 * miner's, which signs uploads): the cron Worker signs weights inside
 * workerd, which cannot compile wasm, so @polkadot/keyring's wasm-backed paths are out. The
 * derivation is the one `Keyring({ type: "sr25519" }).addFromUri` performs (test/node/hotkey-signer.test.ts
 * compares the two), built from @polkadot/util-crypto's JS helpers and @scure/sr25519. It never
 * derives a key other than keyring's; it refuses two kinds of URI keyring takes, each almost
 * certainly a mistake: a short string that is no mnemonic, and surrounding whitespace.
 */
import { hexToU8a, isHex } from "@polkadot/util";
import { encodeAddress, keyExtractSuri, mnemonicToMiniSecret } from "@polkadot/util-crypto";
import { getPublicKey, HDKD, secretFromSeed, sign } from "@scure/sr25519";
import { EdgeError } from "../errors.ts";

/** An sr25519 hotkey: its address and a way to sign bytes with it (the validator's, a miner's). */
export interface HotkeySigner {
  /** ss58 (prefix 42). */
  readonly address: string;
  readonly publicKey: Uint8Array;
  /** A 64-byte sr25519 signature over `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/** Substrate's public development phrase: what a bare `//path` derives from (as in @polkadot/keyring). */
const DEV_PHRASE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
const MNEMONIC_WORDS = new Set([12, 15, 18, 21, 24]);

/**
 * The sr25519 hotkey for a secret URI: `<mnemonic>[path][///password]`, `0x<32-byte seed>[path]`,
 * or a bare `//path` on the dev phrase. A bad secret is CONFIG_INVALID, and no message quotes it.
 */
export function hotkeySignerFromSecret(secret: string): HotkeySigner {
  const secretKey = secretKeyFromUri(secret);
  const publicKey = getPublicKey(secretKey);
  return {
    address: encodeAddress(publicKey, 42),
    publicKey,
    // The nonce of each signature is random (crypto.getRandomValues), as schnorrkel's is.
    sign: (message) => sign(secretKey, message),
  };
}

function invalid(why: string): EdgeError {
  return new EdgeError("CONFIG_INVALID", `the validator hotkey secret ${why}`);
}

function secretKeyFromUri(secret: string): Uint8Array {
  if (secret === "") throw invalid("is empty");
  // Keyring would take a trailing newline into the last junction ("//hot\n") and derive another
  // key without a word; a secret read from a file ends so by accident, so it is refused instead.
  if (secret.trim() !== secret) throw invalid("has leading or trailing whitespace (a newline from a file?)");
  const uri = secret.startsWith("//") ? `${DEV_PHRASE}${secret}` : secret;
  let parts: ReturnType<typeof keyExtractSuri>;
  try {
    parts = keyExtractSuri(uri);
  } catch {
    // Its messages quote the derivation path, which is part of the secret.
    throw invalid("is not a secret URI (<mnemonic or 0x seed>[//hard][/soft][///password])");
  }
  let secretKey: Uint8Array = secretFromSeed(miniSecret(parts.phrase, parts.password ?? ""));
  for (const junction of parts.path) {
    secretKey = junction.isHard
      ? HDKD.secretHard(secretKey, junction.chainCode)
      : HDKD.secretSoft(secretKey, junction.chainCode);
  }
  return secretKey;
}

/** The 32-byte seed of the URI's phrase, as keyring makes it; keyring's raw-string seeds are refused. */
function miniSecret(phrase: string, password: string): Uint8Array {
  if (phrase.startsWith("0x")) {
    // Keyring ignores the password of a hex seed; so does this.
    if (!isHex(phrase, 256)) throw invalid("is a hex seed but not 32 bytes");
    return hexToU8a(phrase);
  }
  // Keyring would pad any other string of up to 32 characters into a seed: for a hotkey that is
  // almost certainly a truncated mnemonic, so it is refused rather than silently used.
  if (!MNEMONIC_WORDS.has(phrase.split(" ").length)) throw invalid("is neither a 12–24 word mnemonic nor a 0x seed");
  try {
    return mnemonicToMiniSecret(phrase, password, undefined, true);
  } catch {
    throw invalid("is not a valid bip39 mnemonic (unknown word or bad checksum)");
  }
}
