/**
 * Validates a gradient file exactly as the validator does and prints what it holds.
 *
 *   npm run gradient:inspect -- FILE --manifest MANIFEST.json [--profile local|default]
 *                               [--netuid N --window S --uid U --hotkey SS58]
 *
 * Prints one JSON object: the report, or {"error": {"code", "message"}}; exits 1 on a refusal.
 * The file is streamed from disk, so its size does not matter.
 */
import { createReadStream, readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { dequantizedNorm } from "../schema/codec/aggregate.ts";
import { gradientLayout } from "../schema/codec/chunking.ts";
import { type CompressedParam, tensorName } from "../schema/codec/gradient-format.ts";
import { readFloat32 } from "../schema/codec/safetensors.ts";
import { validateGradientStream } from "../schema/codec/validate.ts";
import { EdgeError } from "../schema/errors.ts";
import { getHparams } from "../schema/hparams.ts";
import type { ModelManifest } from "../schema/model/manifest.ts";

async function readRange(path: string, begin: number, end: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const piece of createReadStream(path, { start: begin, end: end - 1 })) parts.push(piece as Buffer);
  return new Uint8Array(Buffer.concat(parts));
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      manifest: { type: "string" },
      profile: { type: "string", default: "local" },
      netuid: { type: "string" },
      window: { type: "string" },
      uid: { type: "string" },
      hotkey: { type: "string" },
    },
  });
  const [path] = positionals;
  if (!path || !values.manifest) {
    console.error(
      "usage: inspect-gradient FILE --manifest MANIFEST.json [--profile P] [--netuid N --window S --uid U --hotkey K]",
    );
    return 2;
  }
  const manifest = JSON.parse(readFileSync(values.manifest, "utf8")) as ModelManifest;
  const hparams = getHparams(values.profile);
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const expect = Object.fromEntries(
    Object.entries({
      netuid: num(values.netuid),
      window: num(values.window),
      uid: num(values.uid),
      hotkey: values.hotkey,
    }).filter(([, v]) => v !== undefined),
  );
  try {
    const size = statSync(path).size;
    const report = await validateGradientStream(createReadStream(path, { highWaterMark: 1 << 20 }), {
      manifest,
      hparams,
      size,
      expect,
    });
    // Per-parameter norms need each parameter's codes: read just those ranges back.
    const params: Record<string, { chunks: number; k: number; norm: number }> = {};
    for (const layout of gradientLayout(manifest, hparams.compression)) {
      const range = (part: "idxs" | "codes" | "lookup" | "shift") => report.tensors[tensorName(layout.name, part)];
      const get = async (part: "idxs" | "codes" | "lookup" | "shift") => {
        const r = range(part);
        return r ? readRange(path, r.begin, r.end) : new Uint8Array(0);
      };
      const lookup = await get("lookup");
      const param: CompressedParam = {
        name: layout.name,
        formatVersion: report.metadata.format_version,
        idxs: new Uint8Array(0),
        codes: await get("codes"),
        lookup: readFloat32(lookup, lookup.length / 4),
        shift: readFloat32(await get("shift"), 1)[0] ?? 0,
      };
      params[layout.name] = { chunks: layout.chunks, k: layout.k, norm: dequantizedNorm(param, layout) };
    }
    const { fingerprint: _unused, tensors: _ranges, ...summary } = report;
    console.log(JSON.stringify({ ...summary, params }, null, 2));
    return 0;
  } catch (e) {
    if (!(e instanceof EdgeError)) throw e;
    console.log(JSON.stringify({ error: { code: e.code, message: e.message } }, null, 2));
    return 1;
  }
}

process.exitCode = await main();
