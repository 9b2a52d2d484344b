// The pure-JS hotkey (workers/chain/hotkey-signer.ts) against @polkadot/keyring's addFromUri, the
// reference every Substrate tool derives secret URIs with: same keys, signatures that verify.
import { Keyring } from "@polkadot/keyring";
import { u8aToHex } from "@polkadot/util";
import { signatureVerify } from "@polkadot/util-crypto";
import { describe, expect, it } from "vitest";
import { EdgeError } from "../../schema/errors.ts";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";

const keyring = new Keyring({ type: "sr25519", ss58Format: 42 });
const DEV = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
// BIP39 test vectors (valid checksums), 12 and 24 words.
const MNEMONIC_12 = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const MNEMONIC_24 =
  "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless";
const SEED = "0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

const URIS = [
  "//Alice",
  "//Charlie//hot",
  "//Alice/soft",
  "//Alice//hot/0",
  "//Alice//1",
  "//Alice///dev-password",
  DEV,
  MNEMONIC_12,
  `${MNEMONIC_12}//hard/soft///password`,
  `${MNEMONIC_12}///only a password`,
  `${MNEMONIC_24}//validator//0`,
  SEED,
  `${SEED}//hot`,
  `${SEED}/soft//hard`,
  SEED.toUpperCase().replace("0X", "0x"),
];

describe("hotkeySignerFromSecret", () => {
  it.each(URIS)("derives the same key as Keyring.addFromUri: %s", (uri) => {
    const signer = hotkeySignerFromSecret(uri);
    const pair = keyring.addFromUri(uri);
    expect(signer.address).toBe(pair.address);
    expect(u8aToHex(signer.publicKey)).toBe(u8aToHex(pair.publicKey));
  });

  it("signs with that key: signatures verify for its address, and not for another message", () => {
    for (const uri of ["//Charlie//hot", `${MNEMONIC_12}//hard/soft///password`, `${SEED}//hot`]) {
      const signer = hotkeySignerFromSecret(uri);
      const message = new TextEncoder().encode(`templar-edge/v1/test|${uri}`);
      const signature = signer.sign(message);
      expect(signature).toHaveLength(64);
      expect(signatureVerify(message, signature, signer.address)).toMatchObject({ isValid: true, crypto: "sr25519" });
      expect(signatureVerify(message, signature, keyring.addFromUri(uri).address).isValid).toBe(true);
      expect(signatureVerify(message.slice(1), signature, signer.address).isValid).toBe(false);
    }
  });

  it("refuses a trailing newline, from which Keyring silently derives another key", () => {
    expect(keyring.addFromUri("//Charlie//hot\n").address).not.toBe(keyring.addFromUri("//Charlie//hot").address);
    expect(() => hotkeySignerFromSecret("//Charlie//hot\n")).toThrow(/whitespace/);
    expect(() => hotkeySignerFromSecret(` ${MNEMONIC_12}`)).toThrow(/whitespace/);
  });

  const BAD: [string, string][] = [
    ["", "empty"],
    ["not-a-uri with//s3cr3t//", "unparseable, with a path"],
    [`${MNEMONIC_12}//s3cr3t//`, "a mnemonic with a broken path"],
    ["0x1234", "a short hex seed"],
    [SEED.slice(0, -1), "a 63-digit hex seed"],
    [`${"abandon ".repeat(11)}abandon`, "a mnemonic with a bad checksum"],
    [`${MNEMONIC_12.replace("legal", "legol")}`, "a mnemonic with an unknown word"],
    ["legal winner thank year wave", "five words"],
    ["hunter2", "a short string (Keyring pads it into a seed)"],
  ];

  it.each(BAD)("refuses %j (%s) with CONFIG_INVALID, never quoting it", (secret) => {
    let thrown: unknown;
    try {
      hotkeySignerFromSecret(secret);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(EdgeError);
    expect((thrown as EdgeError).code).toBe("CONFIG_INVALID");
    const message = (thrown as EdgeError).message;
    for (const part of secret.split(/[\s/]+/).filter((p) => p.length >= 4)) expect(message).not.toContain(part);
  });
});
