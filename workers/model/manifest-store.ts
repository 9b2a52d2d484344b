/**
 * The model manifest the validator checks gradients against, from the artifacts bucket
 * (`model/manifest.json`, written by the model builder), cached per isolate by ETag.
 */
import { EdgeError } from "../../schema/errors.ts";
import { assertValidManifest, type ModelManifest } from "../../schema/model/manifest.ts";

export const MANIFEST_KEY = "model/manifest.json";

let cached: { etag: string; manifest: ModelManifest } | undefined;

/** The current model manifest; CONFIG_INVALID if none has been published. */
export async function loadManifest(artifacts: R2Bucket): Promise<ModelManifest> {
  const object = await artifacts.get(MANIFEST_KEY, cached ? { onlyIf: { etagDoesNotMatch: cached.etag } } : {});
  if (!object) throw new EdgeError("CONFIG_INVALID", `no model manifest at ${MANIFEST_KEY} in the artifacts bucket`);
  if (!("body" in object)) return (cached as { manifest: ModelManifest }).manifest; // unchanged since cached
  const manifest = (await object.json()) as ModelManifest;
  assertValidManifest(manifest);
  cached = { etag: object.etag, manifest };
  return manifest;
}
