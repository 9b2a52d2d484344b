/** The code base's TypeScript sources, for tests that read them (import graph, error codes). */
import { readdirSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../../..");

/** Every .ts source under the product's code folders, as repository paths. */
export function sourceFiles(dirs: readonly string[] = ["workers", "gpu-runner", "schema", "scripts"]): string[] {
  return dirs.flatMap((dir) =>
    readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
      .map((f) => path.join(dir, f)),
  );
}
