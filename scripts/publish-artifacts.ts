/**
 * Uploads the model and data artifacts (`npm run build-model`, `npm run prepare-data`) to the
 * artifacts bucket, local or remote.
 *
 *   npm run publish-artifacts -- [--profile local] [--dir DIR] [--persist-to DIR | --remote [--env production]]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { artifactsDir, ROOT, readArtifacts } from "./artifacts/files.ts";
import { type WranglerTarget, wrangler } from "./dev/wrangler-dev.ts";

export const ARTIFACTS_BUCKET = "templar-edge-artifacts";

/** Puts every artifact of `dir` into the artifacts bucket of `target`; returns the keys. */
export async function publishArtifacts(
  dir: string,
  target: WranglerTarget,
  log: (line: string) => void = () => {},
): Promise<string[]> {
  const files = readArtifacts(dir);
  const scratch = mkdtempSync(path.join(tmpdir(), "publish-"));
  for (const [key, bytes] of files) {
    const file = path.join(scratch, key.replaceAll("/", "__"));
    writeFileSync(file, bytes);
    await wrangler(["r2", "object", "put", `${ARTIFACTS_BUCKET}/${key}`, "--file", file], target);
    log(`published ${key} (${bytes.length} bytes)`);
  }
  return [...files.keys()];
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      profile: { type: "string", default: "local" },
      dir: { type: "string" },
      "persist-to": { type: "string" },
      remote: { type: "boolean", default: false },
      env: { type: "string" },
    },
  });
  const target: WranglerTarget = values.remote
    ? { remote: true, ...(values.env ? { env: values.env } : {}) }
    : (values["persist-to"] ?? path.join(ROOT, ".wrangler/state"));
  await publishArtifacts(values.dir ?? artifactsDir(values.profile as string), target, console.log);
}
