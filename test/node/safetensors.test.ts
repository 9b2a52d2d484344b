// The HF safetensors reader against files it did not write: test/node/fixtures/safetensors/ comes
// from scripts/fixtures/safetensors-fixtures.py (numpy, from the format's description), and every
// value is compared bit for bit. Malformed files are the fixture's layout with one thing broken.
import { copyFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  INDEX_FILE,
  MAX_HEADER_BYTES,
  type ModelFileFault,
  SafetensorsCheckpoint,
  SafetensorsFile,
} from "../../gpu-runner/model/safetensors.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures/safetensors");
const DTYPES = path.join(FIXTURES, "dtypes.safetensors");
const SHARDED = path.join(FIXTURES, "sharded");
const tmp = mkdtempSync(path.join(tmpdir(), "safetensors-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Expects a MODEL_FILE_INVALID refusal with this reason (and these details). */
async function expectFault(run: () => Promise<unknown>, reason: ModelFileFault, details: Record<string, unknown> = {}) {
  await expect(run()).rejects.toMatchObject({ code: "MODEL_FILE_INVALID", details: { reason, ...details } });
}

/** Writes a safetensors file from a header (object or raw text) and data bytes; returns its path. */
function writeFile(name: string, header: unknown, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint) {
  const json = typeof header === "string" ? Buffer.from(header, "utf8") : Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  const file = path.join(tmp, name);
  writeFileSync(file, Buffer.concat([prefix, json, data]));
  return file;
}

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: "F32", shape, data_offsets: [begin, end] });

describe("one safetensors file", async () => {
  const file = await SafetensorsFile.open(DTYPES);
  afterAll(() => file.close());

  it("reads the header: metadata, names, shapes", () => {
    expect(file.header.metadata).toEqual({
      format: "pt",
      note: "written by scripts/fixtures/safetensors-fixtures.py",
    });
    expect([...file.header.tensors.keys()].sort()).toEqual([
      "bf16.exact",
      "bf16.expected",
      "bf16.patterns",
      "empty",
      "f16.expected",
      "f16.patterns",
      "f32.values",
      "ids",
      "odd.f16",
    ]);
    expect(file.entry("f16.patterns")).toMatchObject({ dtype: "F16", shape: [64, 32] });
  });

  it("widens float16 exactly: zeros, subnormals, normals, ±inf and NaN payloads, as numpy does", async () => {
    const got = await file.read("f16.patterns");
    expect(got.length).toBe(2048);
    expect(bits(got)).toEqual(bits(await file.read("f16.expected")));
    expect(Array.from(await file.read("odd.f16"))).toEqual([1, -0.5, 65504]);
  });

  it("widens bfloat16 exactly over every exponent", async () => {
    expect(bits(await file.read("bf16.patterns"))).toEqual(bits(await file.read("bf16.expected")));
    const exact = [1, -2.5, 0.15625, 65280, Number.POSITIVE_INFINITY, -0, 2 ** -133, -(2 ** 127)];
    expect(bits(await file.read("bf16.exact"))).toEqual(bits(Float32Array.from(exact)));
  });

  it("gives the same values when a tensor is read in many small chunks", async () => {
    const chunked = await SafetensorsFile.open(DTYPES, { chunkBytes: 24 });
    try {
      for (const name of ["f16.patterns", "bf16.patterns", "f16.expected", "odd.f16"])
        expect(bits(await chunked.read(name)), name).toEqual(bits(await file.read(name)));
    } finally {
      await chunked.close();
    }
  });

  it("reads float32 as stored, and an empty tensor", async () => {
    const want = Float32Array.from([0, -0, 1.5, -3.25, 1e-45, 3.4028234663852886e38]);
    expect(bits(await file.read("f32.values"))).toEqual(bits(want));
    expect((await file.read("empty")).length).toBe(0);
  });

  it("refuses a dtype it does not convert, naming the file and the tensor", async () => {
    await expectFault(() => file.read("ids"), "dtype", { file: DTYPES, tensor: "ids" });
    await expect(file.read("ids")).rejects.toThrow(/dtypes\.safetensors, tensor "ids": dtype I64/);
    await expectFault(() => file.read("nope"), "tensor_missing", { tensor: "nope" });
  });
});

describe("a sharded checkpoint", () => {
  // Written by the fixture script as F32 tensors: the values each tensor must widen to.
  const expectedFile = SafetensorsFile.open(path.join(FIXTURES, "sharded-expected.safetensors"));
  afterAll(async () => (await expectedFile).close());

  it("maps every tensor of the index to its shard and reads it", async () => {
    for (const location of [SHARDED, path.join(SHARDED, INDEX_FILE)]) {
      const ckpt = await SafetensorsCheckpoint.open(location);
      try {
        const expected = await expectedFile;
        expect(ckpt.names()).toEqual([...expected.header.tensors.keys()].sort());
        expect(ckpt.metadata).toEqual({ total_size: 84 });
        for (const name of ckpt.names())
          expect(bits(await ckpt.read(name)), name).toEqual(bits(await expected.read(name)));
        expect(ckpt.entry("model.embed_tokens.weight")).toMatchObject({ dtype: "BF16", shape: [4, 3] });
        expect(path.basename(ckpt.fileOf("lm_head.weight").file)).toBe("model-00002-of-00002.safetensors");
        await expectFault(() => ckpt.read("model.norm.weight"), "tensor_missing", { tensor: "model.norm.weight" });
      } finally {
        await ckpt.close();
      }
    }
  });

  it("opens a directory without an index as model.safetensors", async () => {
    const dir = mkdtempSync(path.join(tmp, "single-"));
    copyFileSync(DTYPES, path.join(dir, "model.safetensors"));
    const ckpt = await SafetensorsCheckpoint.open(dir);
    expect(ckpt.names()).toContain("f16.patterns");
    expect(ckpt.metadata).toMatchObject({ format: "pt" });
    await ckpt.close();
  });

  const index = (dir: string, weightMap: unknown) => {
    const d = mkdtempSync(path.join(tmp, dir));
    for (const shard of ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
      copyFileSync(path.join(SHARDED, shard), path.join(d, shard));
    writeFileSync(path.join(d, INDEX_FILE), typeof weightMap === "string" ? weightMap : JSON.stringify(weightMap));
    return d;
  };

  it("names a shard the index names but the folder lacks", async () => {
    const d = index("missing-shard-", {
      weight_map: {
        "lm_head.weight": "model-00002-of-00002.safetensors",
        "x.weight": "model-00003-of-00003.safetensors",
      },
    });
    await expectFault(() => SafetensorsCheckpoint.open(d), "shard_missing", {
      file: path.join(d, "model-00003-of-00003.safetensors"),
    });
  });

  it("names a tensor the index maps to a shard that lacks it", async () => {
    const d = index("missing-tensor-", { weight_map: { "model.norm.weight": "model-00002-of-00002.safetensors" } });
    await expectFault(() => SafetensorsCheckpoint.open(d), "tensor_missing", { tensor: "model.norm.weight" });
  });

  it("refuses an index that is not JSON, has no weight_map, or names a path outside its folder", async () => {
    await expectFault(() => SafetensorsCheckpoint.open(index("bad-index-", "{weight_map")), "index");
    await expectFault(() => SafetensorsCheckpoint.open(index("no-map-", { metadata: {} })), "index");
    await expectFault(
      () => SafetensorsCheckpoint.open(index("escape-", { weight_map: { a: "../x.safetensors" } })),
      "index",
      {
        tensor: "a",
      },
    );
  });

  it("names a checkpoint path that does not exist", async () => {
    await expectFault(() => SafetensorsCheckpoint.open(path.join(tmp, "nowhere")), "shard_missing");
  });
});

describe("malformed files", () => {
  const eight = new Uint8Array(8);

  it("header length: fewer than 8 bytes, past the file, below 2, above the limit", async () => {
    const short = path.join(tmp, "short.safetensors");
    writeFileSync(short, new Uint8Array(5));
    await expectFault(() => SafetensorsFile.open(short), "header_length", { file: short });
    await expectFault(() => SafetensorsFile.open(writeFile("past.safetensors", "{}", eight, 400n)), "header_length");
    await expectFault(() => SafetensorsFile.open(writeFile("one.safetensors", "{", undefined, 1n)), "header_length");
    const big = BigInt(MAX_HEADER_BYTES) + 1n;
    await expectFault(() => SafetensorsFile.open(writeFile("huge.safetensors", "{}", eight, big)), "header_length");
  });

  it("header JSON: not JSON, not an object, metadata not strings, entry fields wrong", async () => {
    const open = (name: string, header: unknown) => () => SafetensorsFile.open(writeFile(name, header));
    await expectFault(open("json.safetensors", "{not json}"), "header_json");
    await expectFault(open("array.safetensors", "[]"), "header_json");
    await expectFault(open("space.safetensors", " {}"), "header_json");
    await expectFault(open("meta.safetensors", { __metadata__: { n: 1 } }), "header_json");
    await expectFault(
      open("entry.safetensors", { w: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }),
      "header_json",
      {
        tensor: "w",
      },
    );
  });

  it("invalid UTF-8 in the header", async () => {
    const file = path.join(tmp, "bad-utf8.safetensors");
    const json = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]); // {"\xff":1}
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(file, Buffer.concat([prefix, json]));
    await expectFault(() => SafetensorsFile.open(file), "header_json");
  });

  it("offsets: out of range, overlapping, with a gap, not reaching the end", async () => {
    const data = new Uint8Array(16);
    const cases: [string, Record<string, unknown>][] = [
      ["range", { a: f32([4], 8, 24) }],
      ["overlap", { a: f32([2], 0, 8), b: f32([2], 4, 12), c: f32([1], 12, 16) }],
      ["gap", { a: f32([1], 0, 4), b: f32([2], 8, 16) }],
      ["short", { a: f32([2], 0, 8) }],
      ["reversed", { a: f32([0], 8, 4) }],
    ];
    for (const [name, header] of cases)
      await expectFault(() => SafetensorsFile.open(writeFile(`${name}.safetensors`, header, data)), "offsets");
  });

  it("shape × dtype size must equal the byte length", async () => {
    const file = writeFile("shape.safetensors", { w: { dtype: "BF16", shape: [3], data_offsets: [0, 8] } }, eight);
    await expectFault(() => SafetensorsFile.open(file), "shape", { tensor: "w" });
    const huge = { w: { dtype: "F32", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } };
    await expectFault(() => SafetensorsFile.open(writeFile("overflow.safetensors", huge, eight)), "shape");
  });

  it("an unknown dtype names the file and the tensor", async () => {
    const file = writeFile("dtype.safetensors", { w: { dtype: "Q7", shape: [8], data_offsets: [0, 8] } }, eight);
    await expectFault(() => SafetensorsFile.open(file), "dtype", { file, tensor: "w" });
  });

  it("a file cut short after it was opened", async () => {
    const file = path.join(tmp, "shrinks.safetensors");
    copyFileSync(DTYPES, file);
    const st = await SafetensorsFile.open(file);
    truncateSync(file, st.entry("f16.patterns").start + 100);
    await expectFault(() => st.read("f16.expected"), "truncated", { file });
    await st.close();
  });
});

describe("past 2 GiB", () => {
  // A sparse file: only the header and the last tensor are written, so it costs no disk and no memory.
  it("reads a tensor that starts past 2^31 with positional reads", async () => {
    const started = performance.now();
    const pad = 2.5 * 2 ** 30;
    const header = Buffer.from(
      JSON.stringify({ pad: { dtype: "U8", shape: [pad], data_offsets: [0, pad] }, w: f32([4], pad, pad + 16) }),
    );
    const file = path.join(tmp, "sparse.safetensors");
    const handle = await open(file, "w");
    try {
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(header.length));
      await handle.write(Buffer.concat([prefix, header]), 0, 8 + header.length, 0);
      const values = Float32Array.from([1, -2, 0.5, 3e38]);
      await handle.write(new Uint8Array(values.buffer), 0, 16, 8 + header.length + pad);
    } finally {
      await handle.close();
    }
    const st = await SafetensorsFile.open(file);
    expect(st.entry("w").start).toBeGreaterThan(2 ** 31);
    expect(Array.from(await st.read("w"))).toEqual([1, -2, 0.5, Math.fround(3e38)]);
    await expectFault(() => st.read("pad"), "dtype", { tensor: "pad" });
    await st.close();
    rmSync(file);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
