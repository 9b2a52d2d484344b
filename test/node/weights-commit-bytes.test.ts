// `npm run weights -- commit-bytes` prints a timelocked commit that drand's real signature of the
// round opens, by the chain's decryption (test/shared/support/chain-decrypt.ts), into exactly
// the payload asked for; bad arguments are refused before anything is encrypted.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { hexToBytes } from "@noble/hashes/utils.js";
import { decodeAddress } from "@polkadot/util-crypto";
import { describe, expect, it } from "vitest";
import { encodeWeightsTlockPayload } from "../../schema/weights/tlock-payload.ts";
import { revealAsChain } from "../shared/support/chain-decrypt.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
/** drand quicknet's signature of round 1000 (subtensor pallets/drand/src/tests.rs:43). */
const ROUND_1000 = hexToBytes(
  "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39",
);

/** Runs the CLI as an operator would; resolves with its exit code and output. */
async function weights(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["scripts/weights.ts", ...args], {
      cwd: ROOT,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe("npm run weights -- commit-bytes", () => {
  it("prints one hex line that the round-1000 signature decrypts into exactly the payload asked for", async () => {
    const asked = ["--uids", "0,1,7,255", "--values", "65535,100,0,32768", "--version-key", "9010001"];
    const out = await weights("commit-bytes", "--round", "1000", "--hotkey", ALICE, ...asked);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toMatch(/^0x[0-9a-f]+\n$/);

    const commit = hexToBytes(out.stdout.trim().slice(2));
    const hotkey = decodeAddress(ALICE);
    const expected = { hotkey, uids: [0, 1, 7, 255], values: [65535, 100, 0, 32768], versionKey: 9010001n };
    const revealed = revealAsChain(commit, ROUND_1000, hotkey);
    if (!revealed.ok) throw new Error(`the chain would drop it: ${revealed.reason}`);
    expect(revealed.payload).toEqual(expected);
    expect(revealed.plaintext).toEqual(encodeWeightsTlockPayload(expected));
    expect(commit.length).toBe(244 + revealed.plaintext.length);
  });

  it("refuses bad arguments with the usage line, and a commit over 5000 bytes by its code", async () => {
    const base = ["commit-bytes", "--round", "1000", "--hotkey", ALICE, "--version-key", "1"];
    const cases: [string[], RegExp][] = [
      [[...base, "--uids", "1,2", "--values", "1"], /--uids has 2 entries but --values 1/],
      [[...base, "--uids", "1", "--values", "65536"], /--values: 65536 is not a u16/],
      [[...base, "--uids", "1,x", "--values", "1,2"], /--uids must be a comma-separated list/],
      [["commit-bytes", "--round", "0", "--hotkey", ALICE, "--uids", "1", "--values", "1"], /--round must be/],
      [[...base, "--hotkey", "5Nope", "--uids", "1", "--values", "1"], /--hotkey 5Nope is not an SS58 address/],
    ];
    for (const [args, message] of cases) {
      const out = await weights(...args);
      expect(out.code, args.join(" ")).toBe(2);
      expect(out.stderr).toMatch(message);
      expect(out.stderr).toContain("usage: npm run weights -- commit-bytes");
      expect(out.stdout).toBe("");
    }

    const many = Array.from({ length: 1178 }, (_, i) => i).join(",");
    const tooLarge = await weights(...base, "--uids", many, "--values", many);
    expect(tooLarge.code).toBe(1);
    expect(tooLarge.stderr).toMatch(/WEIGHTS_COMMIT_TOO_LARGE: the timelocked commit would be 5001 bytes/);
  });
});
