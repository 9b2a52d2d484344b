// Every example of docs/SPEC.md against the code: each fenced block is found, classified and
// checked (a new block fails the count until it is given a check here), and so are the value
// examples of the text. The Python blocks run with python3 and numpy (Debian's python3-numpy,
// which .ci/run installs): in CI their absence fails; elsewhere only those executions are skipped.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { decodeAddress } from "@polkadot/util-crypto";
import { verify } from "@scure/sr25519";
import { getTableColumns } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { currentWindowResponse, submissionResponse } from "../../schema/api/responses.ts";
import { singleUploadHeaders } from "../../schema/api/upload-requests.ts";
import { paramLayout } from "../../schema/codec/chunking.ts";
import { packCodes } from "../../schema/codec/codes2bit.ts";
import { eliasFanoShape, encodeEliasFano } from "../../schema/codec/elias-fano.ts";
import { indexBytesPerChunk } from "../../schema/codec/index-coding.ts";
import { pack12 } from "../../schema/codec/pack12.ts";
import { validateGradient } from "../../schema/codec/validate.ts";
import { windowScores } from "../../schema/db/scoring.ts";
import { getHparams } from "../../schema/hparams.ts";
import { MODEL_MANIFEST_KEY } from "../../schema/model/keys.ts";
import { minerPool } from "../../schema/sampling/assignment.ts";
import { parseHotkey, signedMessage } from "../../schema/upload/upload-claim.ts";
import { modelArtifacts } from "../../scripts/artifacts/model-artifacts.ts";
import fixture from "../shared/fixtures/encode-vectors.json" with { type: "json" };

const ROOT = path.resolve(import.meta.dirname, "../..");
const spec = readFileSync(path.join(ROOT, "docs/SPEC.md"), "utf8");

interface Block {
  /** The nearest heading above the block, e.g. "### 7.1 `GET /v1/hparams`". */
  readonly heading: string;
  readonly lang: string;
  readonly body: string;
}

/** Every fenced block of the document, with the heading it sits under. */
function fencedBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let heading = "";
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of text.split("\n")) {
    const fence = /^\s*```(\S*)\s*$/.exec(line);
    if (open) {
      if (fence) {
        blocks.push({ heading, lang: open.lang, body: open.lines.join("\n") });
        open = undefined;
      } else open.lines.push(line);
    } else if (fence) open = { lang: fence[1] ?? "", lines: [] };
    else if (line.startsWith("#")) heading = line;
  }
  expect(open, "an unclosed fence").toBeUndefined();
  return blocks;
}

/** The section number of a heading ("### 7.1 `GET …`" → "7.1"). */
const section = (b: Block) => /^#+\s+(\d+(?:\.\d+)*)/.exec(b.heading)?.[1] ?? b.heading;

const blocks = fencedBlocks(spec);
const bySection = (s: string, lang: string) => {
  const found = blocks.filter((b) => section(b) === s && b.lang === lang);
  expect(found, `one ${lang || "plain"} block in §${s}`).toHaveLength(1);
  return found[0] as Block;
};

const vector = (name: string) => fixture.vectors.find((v) => v.name === name) as (typeof fixture.vectors)[number];
/** The file of §4.3 and §5.1: the spec-example vector in format version 2. */
const exampleFile = hexToBytes(vector("spec-example").file_hex_v2);
const exampleFileV1 = hexToBytes(vector("spec-example").file_hex_v1);
/** The JSON header of a file, padding included. */
const headerOf = (file: Uint8Array) =>
  new TextDecoder().decode(file.subarray(8, 8 + Number(new DataView(file.buffer).getBigUint64(0, true))));
const local = getHparams("local");

const hasNumpy = spawnSync("python3", ["-c", "import numpy"], { stdio: "ignore" }).status === 0;
/** Outside CI the Python executions are skipped without numpy; in CI they run (and fail without it). */
const runPython = hasNumpy || Boolean(process.env.CI);

function python(code: string): string {
  const run = spawnSync("python3", ["-c", code], { cwd: ROOT, encoding: "utf8" });
  expect(run.stderr, "python3's stderr").toBe("");
  expect(run.status).toBe(0);
  return run.stdout;
}

describe("docs/SPEC.md examples", () => {
  it("has exactly the fenced blocks this test checks, each tagged", () => {
    expect(blocks.map((b) => `§${section(b)} ${b.lang || "plain"}`)).toEqual([
      "§2.1 json", // the model manifest
      "§2.3 python", // the pool
      "§3.4 text", // quantization, in formulas
      "§4.3 json", // an example header
      "§5.1 plain", // the signed message's template
      "§5.4 plain", // the single upload request
      "§7.1 json", // GET /v1/hparams
      "§7.2 json", // GET /v1/windows/current
      "§7.3 json", // GET /v1/submissions/{window}/{uid}
      "§7.9 json", // a score line
      "§7.10 json", // GET /v1/hotkeys/{hotkey}
      "§9 python", // the Python miner sketch
    ]);
  });

  it("§2.1: the manifest is the local profile's, less layers 1 and 2", () => {
    const published = JSON.parse(
      new TextDecoder().decode(modelArtifacts(local).get(MODEL_MANIFEST_KEY) as Uint8Array),
    ) as { parameters: { name: string }[] };
    const trimmed = { ...published, parameters: published.parameters.filter((p) => !/^layers\.[12]\./.test(p.name)) };
    expect(JSON.parse(bySection("2.1", "json").body)).toEqual(trimmed);
  });

  it("§3.4: the formulas are those the encode vectors and the §9 sketch implement", () => {
    const body = bySection("3.4", "text").body;
    expect(body).toContain("shift  = float32(mean(v))");
    expect(body).toContain("round_half_to_even(c / scale + quantization_bins // 2)");
    // "1.5·σ for range 6, 4 bins"
    expect(local.compression.quantization_range / local.compression.quantization_bins).toBe(1.5);
  });

  it("§4.3: the example header is the spec-example vector's (version 2), and it validates", () => {
    const header = headerOf(exampleFile);
    const n = header.length;
    const body = bySection("4.3", "json").body;
    expect(body.replaceAll("\n", "")).toBe(header.trimEnd());
    expect(header).toContain('"format_version":"2"');
    const said = /file is (\d+) bytes, `N` = (\d+) \((\d+) bytes of JSON and (\d+) spaces[^`]*`([0-9a-f ]+)`/.exec(
      spec.replaceAll("\n", " "),
    );
    expect(said?.slice(1, 6)).toEqual([
      String(exampleFile.length),
      String(n),
      String(header.trimEnd().length),
      String(n - header.trimEnd().length),
      bytesToHex(exampleFile.subarray(0, 8)).replace(/(..)(?!$)/g, "$1 "),
    ]);
    const v = vector("spec-example");
    const report = validateGradient(exampleFile, {
      manifest: v.manifest,
      hparams: local,
      expect: { netuid: 2, window: 41, uid: 7, hotkey: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY" },
    });
    expect(report.metadata.param_sample).toEqual({ w: [0.012451171875, -0.0031280517578125] });
    expect(report.metadata.format_version).toBe(2);
  });

  it("§4.3: the version 1 file differs as the text says", () => {
    const flat = spec.replaceAll("\n", " ");
    const said =
      /version 1 file \(the vector's `file_hex_v1`\) is (\d+) bytes with a header of the same length: it differs in `([^`]+)` and in `([^`]+)`/.exec(
        flat,
      );
    expect(said?.[1]).toBe(String(exampleFileV1.length));
    const v1 = headerOf(exampleFileV1);
    expect(v1.length).toBe(headerOf(exampleFile).length);
    expect(v1).toContain(said?.[2]);
    expect(v1).toContain(said?.[3]);
    const idxsV2 = /"w\.idxs":\{[^}]*\}/.exec(headerOf(exampleFile))?.[0] as string;
    expect(
      headerOf(exampleFile)
        .replace('"format_version":"2"', said?.[2] as string)
        .replace(idxsV2, said?.[3] as string),
    ).toBe(v1);
    // "2 chunks × 96 bytes of 12-bit indices instead of 2 × 64 of Elias-Fano"
    const w = paramLayout({ name: "w", shape: [128, 64] }, local.compression);
    expect([w.chunks, indexBytesPerChunk(w, 1), indexBytesPerChunk(w, 2)]).toEqual([2, 96, 64]);
    expect(exampleFileV1.length - exampleFile.length).toBe(2 * (96 - 64));
  });

  it("§4.4: the validator gives version 2's index faults the codes the text names", () => {
    // the `small` vector's a.weight: chunks of totalk 30, k 6, so L = 2, U = 13 (2 bytes, 3
    // padding bits) and a low part of 12 bits (2 bytes, 4 padding bits); chunk 0 is rewritten
    const v = vector("small");
    const file = hexToBytes(v.file_hex_v2);
    const options = { manifest: v.manifest, hparams: { ...local, compression: v.compression, sync: v.sync } };
    const at = (validateGradient(file, options).tensors["a.weight.idxs"] as { begin: number }).begin;
    const shape = eliasFanoShape(30, 6);
    expect([shape.lowBits, shape.upperBits, shape.upperBytes, shape.lowBytes]).toEqual([2, 13, 2, 2]);
    /** The verdict on the file with chunk 0 of a.weight.idxs coded from upper bits `u` and low values `low`. */
    const verdict = (u: number[], low: number[], lowPaddingBit = false) => {
      const bad = file.slice();
      bad.fill(0, at, at + 4);
      for (const b of u) bad[at + (b >> 3)] = (bad[at + (b >> 3)] as number) | (1 << (b & 7));
      low.forEach((x, t) => {
        for (let j = 0; j < 2; j++) if ((x >> j) & 1) bad[at + 2 + ((2 * t + j) >> 3)] |= 1 << ((2 * t + j) & 7);
      });
      if (lowPaddingBit) bad[at + 3] = (bad[at + 3] as number) | 0x80;
      try {
        validateGradient(bad, options);
        return "valid";
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    // x = 1, 5, 9, 15, 20, 29: highs 0, 1, 2, 3, 5, 7 at bits high + t
    const u = [0, 2, 4, 6, 9, 12];
    const low = [1, 1, 1, 3, 0, 1];
    expect(verdict(u, low)).toBe("valid");
    expect(verdict([...u, 13], low)).toBe("INDEX_CODING_INVALID"); // a padding bit of the upper part
    expect(verdict([...u, 10], low)).toBe("INDEX_CODING_INVALID"); // a set bit after the k-th
    expect(verdict(u.slice(0, 5), low)).toBe("INDEX_CODING_INVALID"); // fewer than k set bits
    expect(verdict(u, low, true)).toBe("INDEX_CODING_INVALID"); // a padding bit of the low part
    expect(verdict([7, 8, 9, 10, 11, 12], [3, 0, 0, 0, 0, 0])).toBe("INDEX_OUT_OF_RANGE"); // x_0 = 31
    expect(verdict([0, 1, 4, 6, 9, 12], [1, 1, 1, 3, 0, 1])).toBe("INDEX_DUPLICATE"); // x_0 = x_1 = 1
    expect(verdict([0, 1, 4, 6, 9, 12], [2, 1, 1, 3, 0, 1])).toBe("INDEX_ORDER_INVALID"); // 2 then 1
    // the faults are met in bit order: a duplicate before the missing k-th bit
    expect(verdict([0, 1, 4, 6, 9], [1, 1, 1, 3, 0, 1])).toBe("INDEX_DUPLICATE");
    // the text names them in the order checked
    const rules = /A chunk's indices, format version 2 (.*?) So a version 2 chunk/.exec(spec.replace(/\s+/g, " "))?.[1];
    const named = [...(rules ?? "").matchAll(/`(INDEX_[A-Z_]+)`/g)].map((m) => m[1]);
    expect(named).toEqual([
      "INDEX_CODING_INVALID",
      "INDEX_OUT_OF_RANGE",
      "INDEX_DUPLICATE",
      "INDEX_ORDER_INVALID",
      "INDEX_CODING_INVALID",
    ]);
  });

  it("§5.1: the template, the example message over the whole file and its signature by //Alice", () => {
    const template = signedMessage({
      netuid: "{netuid}",
      window: "{window}",
      uid: "{uid}",
      sha256: "{sha256}",
      size: "{size}",
    } as unknown as Parameters<typeof signedMessage>[0]);
    expect(bySection("5.1", "").body).toBe(new TextDecoder().decode(template));
    const message = signedMessage({
      netuid: 2,
      window: 41,
      uid: 7,
      sha256: bytesToHex(sha256(exampleFile)),
      size: exampleFile.length,
    });
    const text = new TextDecoder().decode(message);
    expect(spec).toContain(`\`${text}\``);
    const signature = /one valid signature of it is[^`]*`(0x[0-9a-f]{128})`/.exec(spec)?.[1] as string;
    const alice = decodeAddress("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    expect(verify(message, hexToBytes(signature.slice(2)), alice)).toBe(true);
  });

  it("§5.4: the single upload's path and headers are the route's", () => {
    const body = bySection("5.4", "").body;
    expect(body).toContain("PUT /v1/gradients/{window}/{uid}");
    const named = /\n(X-Templar[^\n]*)/.exec(body)?.[1]?.split(", ");
    expect(named?.sort()).toEqual(Object.keys(singleUploadHeaders.shape).sort());
  });

  it("§7.1: the hparams example is the local profile's GET /v1/hparams body", () => {
    // the route answers c.json(ctx.config.hparams), and config.hparams is getHparams(profile)
    expect(JSON.parse(bySection("7.1", "json").body)).toEqual(JSON.parse(JSON.stringify(local)));
  });

  it("§7.2, §7.3: the responses parse with the routes' own schemas, no key left over", () => {
    const current = JSON.parse(bySection("7.2", "json").body);
    expect(currentWindowResponse.strict().parse(current)).toEqual(current);
    expect(current.blocks_per_window).toBe(local.window.blocks_per_window);
    expect(current.window).toBe(Math.floor(current.block / current.blocks_per_window));
    const sub = JSON.parse(bySection("7.3", "json").body.replaceAll("…", "0"));
    expect(submissionResponse.strict().parse(sub)).toEqual(sub);
  });

  it("§7.9: a score line has exactly the columns of window_scores", () => {
    const line = JSON.parse(bySection("7.9", "json").body.replaceAll("5F…", "5F"));
    const snake = Object.keys(getTableColumns(windowScores)).map((k) =>
      k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
    );
    expect(Object.keys(line).sort()).toEqual(snake.sort());
  });

  // GET /v1/hotkeys/{hotkey} is being added on another branch: its example is checked for shape
  // only, not against a running route.
  it("§7.10: the hotkey example names a prefix-42 address and integers", () => {
    const answer = JSON.parse(bySection("7.10", "json").body);
    expect(Object.keys(answer)).toEqual(["hotkey", "uid", "netuid"]);
    expect(parseHotkey(answer.hotkey).hotkey).toBe(answer.hotkey);
    expect(Number.isInteger(answer.uid) && Number.isInteger(answer.netuid)).toBe(true);
  });

  it("value examples of §3.1, §3.5 and §4.1", () => {
    const c = { ...local.compression, target_chunk: 64 };
    const grid = (shape: number[]) => {
      const l = paramLayout({ name: "p", shape }, c);
      return `grid \`[${l.grid.join(", ")}]\` of ${shape.length === 2 ? `${l.h}×${l.w}` : l.w}`;
    };
    const flat = spec.replace(/\s+/g, " "); // lines joined, list indentation dropped
    expect(flat).toContain(`\`[1024, 256]\` → ${grid([1024, 256]).replace("of 64×64", "of 64×64 chunks")}`);
    expect(flat).toContain(`\`[96, 40]\` → ${grid([96, 40])}`);
    expect(flat).toContain(`\`[130]\` → ${grid([130])}`);
    const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0").toUpperCase()).join(" ");
    expect(flat).toContain(`\`[1, 5, 9, 3]\` → \`${hex(pack12([1, 5, 9, 3])).toLowerCase()}\``);
    // the Elias-Fano example of §3.5 (format version 2), against the reference coder
    const ef = (indices: number[], totalk: number) => {
      const shape = eliasFanoShape(totalk, indices.length);
      const out = new Uint8Array(shape.bytes);
      encodeEliasFano(indices, 0, shape, out, 0);
      return { shape, out };
    };
    const example = ef([1, 5, 9, 15], 16);
    expect([example.shape.lowBits, example.shape.upperBits, example.shape.upperBytes]).toEqual([2, 7, 1]);
    expect(flat).toContain("`totalk` 16, k 4, indices `[1, 5, 9, 15]`: `L` = 2 ");
    expect(flat).toContain("`U` = (15 >> 2) + 4 = 7 bits, one byte");
    expect(flat).toContain(
      `→ \`0x${hex(example.out.subarray(0, 1))}\`; the low bits 1, 1, 1, 3 at bits 0, 2, 4, 6 → \`0x${hex(example.out.subarray(1))}\``,
    );
    expect(flat).toContain(
      `the chunk is \`${hex(example.out).toLowerCase()}\` (version 1: \`${hex(pack12([1, 5, 9, 15])).toLowerCase()}\`)`,
    );
    const top64 = ef(
      Array.from({ length: 64 }, (_, i) => i * 64),
      4096,
    ).shape;
    expect(flat).toContain(
      `At \`totalk\` 4096, k 64: \`L\` = ${top64.lowBits}, \`U\` = ${top64.upperBits}, \`B\` = ${top64.upperBytes} + ${top64.lowBytes} = ${top64.bytes} bytes`,
    );
    // the information bound log2 C(4096, 64) of the "why"
    let bits = 0;
    for (let i = 0; i < 64; i++) bits += Math.log2((4096 - i) / (i + 1));
    expect(flat).toContain(
      `carries \`log2 C(totalk, k)\` bits, ${bits.toFixed(1)} bits ≈ ${Math.round(bits / 8)} bytes`,
    );
    expect(flat).toContain(`12-bit packing spends ${(3 * 64) / 2} bytes, Elias-Fano ${top64.bytes}`);
    // §4.1: bytes a chunk at totalk 4096, k 64, in each version
    const big = paramLayout({ name: "p", shape: [64, 64] }, { ...local.compression, target_chunk: 64 });
    expect(flat).toContain(
      `a chunk takes ${indexBytesPerChunk(big, 1)} + ${big.codeBytesPerChunk} = ${indexBytesPerChunk(big, 1) + big.codeBytesPerChunk} bytes in version 1, ${indexBytesPerChunk(big, 2)} + ${big.codeBytesPerChunk} = ${indexBytesPerChunk(big, 2) + big.codeBytesPerChunk} in version 2`,
    );
    expect(flat).toContain(`codes \`[3, 2, 3, 1]\` → \`0x${hex(packCodes(Uint8Array.from([3, 2, 3, 1]), 1, 4))}\``);
    expect(flat).toContain(`codes all 1 → \`${hex(packCodes(new Uint8Array(10).fill(1), 1, 10))}\``);
  });

  it.skipIf(!runPython)("§2.3 (python3 with numpy): the pool block draws the validator's pool", () => {
    const code = `uid, S, n_train, inner_steps, batch_size = 7, 41, 1000, 4, 16\n${bySection("2.3", "python").body}\nprint(",".join(map(str, pool)))`;
    expect(python(code).trim()).toBe(minerPool(7, 41, 1000, 64).join(","));
  });

  it.skipIf(!runPython)("§9 (python3 with numpy): the sketch writes every encode vector byte for byte", () => {
    // encode_vectors.py runs the §9 block of this document on each vector's inputs
    const run = spawnSync("python3", ["scripts/fixtures/encode_vectors.py"], { cwd: ROOT, encoding: "utf8" });
    expect(run.stdout).not.toContain("DIFFERENT");
    expect(run.status).toBe(0);
    // and its upload_headers signs the §5.1 message (a stub key records what it signs)
    const sketch = JSON.stringify(bySection("9", "python").body);
    const out = python(`import sys, types
stub = types.ModuleType("substrateinterface"); stub.Keypair = object; sys.modules["substrateinterface"] = stub
scope = {}; exec(${sketch}, scope)
class Key:
    ss58_address = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
    def sign(self, message): print(message.decode()); return bytes(64)
h = scope["upload_headers"](bytes.fromhex("${vector("spec-example").file_hex_v2}"), 2, 41, 7, Key())
print(scope["elias_fano"]([1, 5, 9, 15], 16).tobytes().hex())
print(h["Content-Length"], h["X-Templar-Sha256"])`);
    const [message, example, sizeAndSha] = out.trim().split("\n");
    // the sketch's Elias-Fano coder writes §3.5's worked example as the reference coder does
    const shape = eliasFanoShape(16, 4);
    const want = new Uint8Array(shape.bytes);
    encodeEliasFano([1, 5, 9, 15], 0, shape, want, 0);
    expect(example).toBe(bytesToHex(want));
    expect(message).toBe(
      new TextDecoder().decode(
        signedMessage({
          netuid: 2,
          window: 41,
          uid: 7,
          sha256: bytesToHex(sha256(exampleFile)),
          size: exampleFile.length,
        }),
      ),
    );
    expect(sizeAndSha).toBe(`${exampleFile.length} ${bytesToHex(sha256(exampleFile))}`);
  });
});
