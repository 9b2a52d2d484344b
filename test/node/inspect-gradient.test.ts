// The inspect CLI as a miner runs it: a child process under plain node, on files on disk.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { buildGradient, IDENTITY, TEST_MANIFEST } from "../shared/fixtures/gradients.ts";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "inspect-"));
const manifestPath = path.join(dir, "manifest.json");
writeFileSync(manifestPath, JSON.stringify(TEST_MANIFEST));

async function inspect(file: Uint8Array, ...args: string[]): Promise<{ code: number; out: Record<string, unknown> }> {
  const filePath = path.join(dir, `g-${Math.random()}.safetensors`);
  writeFileSync(filePath, file);
  try {
    const { stdout } = await run(
      process.execPath,
      ["scripts/inspect-gradient.ts", filePath, "--manifest", manifestPath, ...args],
      {
        cwd: root,
      },
    );
    return { code: 0, out: JSON.parse(stdout) };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, out: JSON.parse(err.stdout) };
  }
}

describe("npm run gradient:inspect", () => {
  it("prints the metadata, digest and per-parameter norms of a valid file", async () => {
    const { code, out } = await inspect(buildGradient(3).file, "--window", "41", "--uid", "7");
    expect(code).toBe(0);
    expect(out.metadata).toMatchObject({ window: IDENTITY.window, uid: IDENTITY.uid, hotkey: IDENTITY.hotkey });
    expect(out.tensorDigest).toMatch(/^[0-9a-f]{64}$/);
    const params = out.params as Record<string, { chunks: number; k: number; norm: number }>;
    expect(Object.keys(params)).toEqual(TEST_MANIFEST.parameters.map((p) => p.name));
    expect(params.tok_emb).toMatchObject({ chunks: 2, k: 64 });
    expect(params.tok_emb?.norm).toBeGreaterThan(0);
  });

  it("exits 1 with the code of the fault", async () => {
    const file = buildGradient(3).file;
    const truncated = await inspect(file.subarray(0, file.length - 5));
    expect(truncated).toMatchObject({ code: 1, out: { error: { code: "TRUNCATED" } } });
    const wrongUid = await inspect(file, "--uid", "8");
    expect(wrongUid).toMatchObject({ code: 1, out: { error: { code: "METADATA_MISMATCH" } } });
  });
});
