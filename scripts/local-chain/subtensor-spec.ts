/**
 * The subtensor runtime for the local network: the raw chain spec of spec_version 218 from
 * ../shared/chain/ (never committed: it holds compiled subtensor code), patched once with a
 * fixed genesis timestamp so block #1 cannot straddle an Aura slot (docs/LOCAL_CHAIN.md §1).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { bnToU8a, u8aToHex } from "@polkadot/util";
import { xxhashAsHex } from "@polkadot/util-crypto";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Where the spec is looked for: $SUBTENSOR_SPEC, else ../shared beside the clone. */
export const SPEC_SOURCE =
  process.env.SUBTENSOR_SPEC ?? path.resolve(ROOT, "../shared/chain/subtensor-raonet-spec218.json");
const GENESIS_MS = 1_735_689_600_000n; // 2025-01-01T00:00:00Z

/** True if the runtime's spec file is available. */
export function specAvailable(): boolean {
  return existsSync(SPEC_SOURCE);
}

/** The patched spec's path (written under .tools/chain once). */
export function localSpec(): string {
  if (!specAvailable()) throw new Error(`subtensor chain spec not found at ${SPEC_SOURCE} (set SUBTENSOR_SPEC)`);
  const dir = path.join(ROOT, ".tools/chain");
  const out = path.join(dir, "subtensor-local.json");
  if (existsSync(out)) return out;
  const spec = JSON.parse(readFileSync(SPEC_SOURCE, "utf8"));
  const key = xxhashAsHex("Timestamp", 128) + xxhashAsHex("Now", 128).slice(2);
  spec.genesis.raw.top[key] = u8aToHex(bnToU8a(GENESIS_MS, { bitLength: 64, isLe: true }));
  spec.bootNodes = [];
  mkdirSync(dir, { recursive: true });
  writeFileSync(out, JSON.stringify(spec));
  return out;
}
