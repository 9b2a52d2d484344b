/**
 * Where finney's runtime metadata (spec 393, a data file from ../shared, never committed) is read
 * from. Kept apart from the node so that checking for it loads nothing else.
 */
import { existsSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../../../..");

/** Where finney's metadata is read from: $FINNEY_METADATA, else ../shared beside the clone. */
export const FINNEY_METADATA_SOURCE =
  process.env.FINNEY_METADATA ?? path.resolve(ROOT, "../shared/chain/finney-spec393-metadata.scale");

/** True if the metadata file is there (CI has it; a bare clone does not). */
export function finneyMetadataAvailable(): boolean {
  return existsSync(FINNEY_METADATA_SOURCE);
}
