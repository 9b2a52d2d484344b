/**
 * The validator's artifacts in R2: JSON manifests read through a per-isolate ETag cache, and
 * objects served with ETag, If-None-Match (304) and Range, so runners and miners download a
 * checkpoint or a data shard once.
 */
import { DATA_MANIFEST_KEY, type DataManifest } from "../schema/data/dataset.ts";
import { EdgeError } from "../schema/errors.ts";
import { MODEL_MANIFEST_KEY } from "../schema/model/keys.ts";
import { assertValidManifest, type ModelManifest } from "../schema/model/manifest.ts";

const cache = new Map<string, { etag: string; value: unknown }>();

/** A JSON artifact, re-read only when its ETag changes; CONFIG_INVALID if it is not published. */
async function jsonArtifact<T>(bucket: R2Bucket, key: string, check: (value: T) => void): Promise<T> {
  const cached = cache.get(key);
  const object = await bucket.get(key, cached ? { onlyIf: { etagDoesNotMatch: cached.etag } } : {});
  if (!object) throw new EdgeError("CONFIG_INVALID", `nothing published at ${key} in the artifacts bucket`);
  if (!("body" in object)) return (cached as { value: T }).value; // unchanged
  const value = (await object.json()) as T;
  check(value);
  cache.set(key, { etag: object.etag, value });
  return value;
}

/** The model manifest gradients are checked against. */
export function loadModelManifest(artifacts: R2Bucket): Promise<ModelManifest> {
  return jsonArtifact(artifacts, MODEL_MANIFEST_KEY, assertValidManifest);
}

/** The dataset manifest (splits, shards, sample counts). */
export function loadDataManifest(artifacts: R2Bucket): Promise<DataManifest> {
  return jsonArtifact<DataManifest>(artifacts, DATA_MANIFEST_KEY, (m) => {
    if (m?.format !== "templar-edge.data" || !m.splits?.train)
      throw new EdgeError("CONFIG_INVALID", `${DATA_MANIFEST_KEY} is not a dataset manifest`);
  });
}

/** An R2 object as an HTTP response: ETag, 304 for a matching If-None-Match, 206 for a Range. */
export async function objectResponse(
  bucket: R2Bucket,
  key: string,
  request: Request,
  contentType = "application/octet-stream",
): Promise<Response> {
  const object = await bucket.get(key, { onlyIf: request.headers, range: request.headers });
  if (!object) throw new EdgeError("NOT_FOUND", `nothing at ${key}`);
  const headers = new Headers({ ETag: object.httpEtag, "Content-Type": contentType, "Accept-Ranges": "bytes" });
  if (!("body" in object)) return new Response(null, { status: 304, headers });
  const range = object.range as { offset: number; length: number } | undefined;
  if (range && request.headers.has("Range")) {
    headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${object.size}`);
    headers.set("Content-Length", String(range.length));
    return new Response(object.body, { status: 206, headers });
  }
  headers.set("Content-Length", String(object.size));
  return new Response(object.body, { headers });
}
