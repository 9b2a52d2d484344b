/** Artifacts on disk: `.artifacts/<profile>/<key>`, the layout `publish-artifacts` uploads. */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");

/** The default artifacts folder of a profile. */
export function artifactsDir(profile: string): string {
  return path.join(ROOT, ".artifacts", profile);
}

/** Writes artifacts under `dir`, keys as relative paths. */
export function writeArtifacts(dir: string, files: Map<string, Uint8Array>): void {
  for (const [key, bytes] of files) {
    const file = path.join(dir, key);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
}

/** Every artifact under `dir`, by key. */
export function readArtifacts(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (sub: string) => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(path.join(dir, rel)).isDirectory()) walk(rel);
      else out.set(rel, new Uint8Array(readFileSync(path.join(dir, rel))));
    }
  };
  walk("");
  return out;
}
