/**
 * Who mines on the local network: honest reference miners and one of each adversary persona
 * (docs/SPEC.md §2 is what an honest miner does; the personas are what the validator must catch).
 */

import type { FormatVersion } from "../../schema/codec/format-version.ts";
import { PERSONAS, type PersonaName } from "../miner/personas.ts";

export { PERSONAS };
export type Persona = PersonaName;

export interface MinerSpec {
  /** Account name: coldkey //Name, hotkey //Name//hot. */
  readonly name: string;
  readonly persona: Persona;
  /** For a copier: the name of the miner whose uploads it copies. */
  readonly copies?: string;
  /** The gradient format it writes; unset, the highest the validator accepts. */
  readonly formatVersion?: FormatVersion;
}

/**
 * `honest` honest miners, then (unless `adversaries` is false) one miner per adversary persona.
 * Every second honest miner writes format version 1, so each window mixes both versions, as a
 * network does while miners move to version 2.
 */
export function lineup(honest: number, adversaries = true): MinerSpec[] {
  const name = (i: number) => `Miner${String(i + 1).padStart(2, "0")}`;
  const out: MinerSpec[] = Array.from({ length: honest }, (_, i) => ({
    name: name(i),
    persona: "honest",
    ...(i % 2 === 1 ? { formatVersion: 1 } : {}),
  }));
  if (adversaries) {
    for (const persona of PERSONAS.filter((p) => p !== "honest")) {
      out.push({
        name: name(out.length),
        persona,
        ...(persona === "copier" ? { copies: name(0) } : {}),
      });
    }
  }
  return out;
}
