/**
 * `npm run weights -- commit-bytes`: the bytes of a timelocked weights commit, so that anyone can
 * decrypt them with drand's signature of the round and check what a validator commits
 * (docs/WEIGHTS_ON_CHAIN.md §3). Fresh randomness each run, so the bytes differ every time
 * while they decrypt to the same payload.
 */
import { parseArgs } from "node:util";
import { bytesToHex } from "@noble/hashes/utils.js";
import { decodeAddress } from "@polkadot/util-crypto";
import { encryptCommit } from "../../schema/weights/timelock-commit.ts";
import { encodeWeightsTlockPayload, type WeightsTlockPayload } from "../../schema/weights/tlock-payload.ts";

export const COMMIT_BYTES_USAGE =
  "usage: npm run weights -- commit-bytes --round R --hotkey SS58 --uids 1,2 --values 65535,100 --version-key K";

/** What the command encrypts: a payload and the drand round it opens at. */
export interface CommitBytesRequest {
  readonly round: number;
  readonly payload: WeightsTlockPayload;
}

/** Reads the command's arguments; a message naming the bad one otherwise. */
export function parseCommitBytesArgs(args: string[]): CommitBytesRequest {
  const { values } = parseArgs({
    args,
    options: {
      round: { type: "string" },
      hotkey: { type: "string" },
      uids: { type: "string" },
      values: { type: "string" },
      "version-key": { type: "string" },
    },
  });
  const { round, hotkey, uids, "version-key": versionKey } = values;
  if (!round || !/^[1-9]\d*$/.test(round) || !Number.isSafeInteger(Number(round)))
    throw new Error("--round must be a drand quicknet round (a positive integer)");
  if (!hotkey) throw new Error("--hotkey must be the committing hotkey's SS58 address");
  if (!versionKey || !/^\d+$/.test(versionKey)) throw new Error("--version-key must be a non-negative integer (u64)");
  let publicKey: Uint8Array;
  try {
    publicKey = decodeAddress(hotkey);
  } catch {
    throw new Error(`--hotkey ${hotkey} is not an SS58 address`);
  }
  if (publicKey.length !== 32) throw new Error(`--hotkey ${hotkey} is not a 32-byte account`);
  if (BigInt(versionKey) >= 1n << 64n) throw new Error(`--version-key ${versionKey} does not fit in a u64`);
  const payload = {
    hotkey: publicKey,
    uids: u16List("--uids", uids),
    values: u16List("--values", values.values),
    versionKey: BigInt(versionKey),
  };
  if (payload.uids.length !== payload.values.length)
    throw new Error(`--uids has ${payload.uids.length} entries but --values ${payload.values.length}`);
  return { round: Number(round), payload };
}

/** The commit's bytes as 0x-hex, the form the `commit` argument of `commit_timelocked_weights` takes. */
export function commitBytesHex(request: CommitBytesRequest): string {
  return `0x${bytesToHex(encryptCommit(encodeWeightsTlockPayload(request.payload), request.round))}`;
}

function u16List(flag: string, text: string | undefined): number[] {
  if (!text || !/^\d+(,\d+)*$/.test(text)) throw new Error(`${flag} must be a comma-separated list of u16, e.g. 1,2`);
  const xs = text.split(",").map(Number);
  const bad = xs.find((x) => x > 0xffff);
  if (bad !== undefined) throw new Error(`${flag}: ${bad} is not a u16 (0–65535)`);
  return xs;
}
