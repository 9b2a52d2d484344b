/**
 * Gradient format versions (docs/SPEC.md §4.2). Version 2 differs from 1 only in how a chunk's
 * indices are coded (./index-coding.ts); the validator accepts those listed in the hparams.
 */

/** The versions this code reads and writes. */
export const FORMAT_VERSIONS = [1, 2] as const;
export type FormatVersion = (typeof FORMAT_VERSIONS)[number];
/** What the reference miner writes unless told otherwise. */
export const LATEST_FORMAT_VERSION: FormatVersion = 2;

/** The version a miner writes for a validator accepting `accepted`: the highest this code knows. */
export function writableFormatVersion(accepted: readonly number[]): FormatVersion {
  const known = FORMAT_VERSIONS.filter((v) => accepted.includes(v));
  const best = known[known.length - 1];
  if (best === undefined)
    throw new Error(`the validator accepts gradient format versions [${accepted}], none of which this miner writes`);
  return best;
}

/** True for a version this code knows. */
export function isFormatVersion(v: unknown): v is FormatVersion {
  return (FORMAT_VERSIONS as readonly unknown[]).includes(v);
}
