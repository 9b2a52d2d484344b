// Templar's data format against numpy: test/node/fixtures/npy/ comes from
// scripts/fixtures/npy-fixtures.py (numpy.save, hashlib.blake2b), so the writer must match it
// byte for byte and the reader must return its values. Where python3 with numpy is installed,
// numpy also reads what we write; CI has only Node and relies on the committed fixtures.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TemplarShard } from "../../gpu-runner/templar-shard.ts";
import { type NpyFault, readNpyU32, readNpyU64, writeNpyU32, writeNpyU64 } from "../../schema/data/npy.ts";
import {
  concatDocuments,
  sampleIds,
  sampleIdsName,
  templarSample,
  tokenShardName,
} from "../../schema/data/templar-shards.ts";
import { splitDocuments, templarData } from "../../scripts/data/templar-data.ts";
import { loadTokenizer } from "../../scripts/data/tokenizer.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures/npy");
const fixture = (name: string) => new Uint8Array(readFileSync(path.join(FIXTURES, name)));
const SEQ_LEN = 8;
const DOCS = [[278, 6635, 29892], Array.from({ length: 11 }, (_, i) => 100 + i), [70000, 4294967295, 7]];
const tmp = mkdtempSync(path.join(tmpdir(), "templar-data-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function hasNumpy(): boolean {
  try {
    execFileSync("python3", ["-c", "import numpy"], { stdio: "ignore" });
    return true;
  } catch {
    console.warn("templar-data.test: python3 with numpy not found; skipping the checks numpy runs itself");
    return false;
  }
}

function expectFault(run: () => unknown, reason: NpyFault, file: string): void {
  try {
    run();
  } catch (e) {
    expect(e).toMatchObject({ code: "DATA_FILE_INVALID", details: { reason, file } });
    expect((e as Error).message).toContain(file);
    return;
  }
  throw new Error(`expected a ${reason} refusal`);
}

describe("Templar shard layout", () => {
  const tokens = concatDocuments(DOCS, 2);

  it("writes numpy.save's bytes for tokens and sample ids", () => {
    expect(writeNpyU32(tokens)).toEqual(fixture("train_000000.npy"));
    expect(writeNpyU64(sampleIds(tokens, SEQ_LEN))).toEqual(fixture("sample_ids_000000.npy"));
  });

  it("reads numpy's files (v1.0, v2.0 and v3.0) and recomputes its blake2b sample ids", () => {
    expect(readNpyU32(fixture("train_000000.npy"), "train_000000.npy")).toEqual(tokens);
    expect(readNpyU32(fixture("train_v2.npy"), "train_v2.npy")).toEqual(tokens);
    expect(readNpyU32(fixture("train_v3.npy"), "train_v3.npy")).toEqual(tokens);
    const ids = readNpyU64(fixture("sample_ids_000000.npy"), "sample_ids_000000.npy");
    expect(ids).toEqual(sampleIds(tokens, SEQ_LEN));
    expect(ids.length).toBe(2);
  });

  it("appends EOS to each document and cuts samples across document boundaries", () => {
    expect(Array.from(templarSample(tokens, 0, SEQ_LEN))).toEqual([278, 6635, 29892, 2, 100, 101, 102, 103]);
    expect(Array.from(templarSample(tokens, 1, SEQ_LEN))).toEqual([104, 105, 106, 107, 108, 109, 110, 2]);
    expect(() => templarSample(tokens, 2, SEQ_LEN)).toThrow(RangeError); // the trailing 4 tokens are no sample
    expect(tokenShardName(3)).toBe("train_000003.npy");
    expect(sampleIdsName(0)).toBe("sample_ids_000000.npy");
  });

  it.skipIf(!hasNumpy())("numpy loads what we write, headers of every length included", () => {
    const lengths = [0, 1, 9, 10, 99_999, 1_000_000];
    for (const n of lengths) {
      writeFileSync(
        path.join(tmp, `u4_${n}.npy`),
        writeNpyU32(new Uint32Array(n).map((_, i) => (i * 2654435761) >>> 0)),
      );
      writeFileSync(
        path.join(tmp, `u8_${n}.npy`),
        writeNpyU64(new BigUint64Array(Math.min(n, 1000)).fill(2n ** 64n - 1n)),
      );
    }
    const script = `
import numpy as np, io, sys
d = sys.argv[1]
for n in [${lengths.join(",")}]:
    a = np.load(f"{d}/u4_{n}.npy"); assert a.dtype == np.dtype("<u4") and a.shape == (n,)
    assert (a == (np.arange(n, dtype=np.uint64) * 2654435761 % 2**32)).all()
    b = io.BytesIO(); np.save(b, a); assert b.getvalue() == open(f"{d}/u4_{n}.npy", "rb").read(), n
    u = np.load(f"{d}/u8_{n}.npy"); assert u.dtype == np.dtype("<u8") and (u == 2**64 - 1).all()
print("ok")`;
    expect(execFileSync("python3", ["-c", script, tmp], { encoding: "utf8" }).trim()).toBe("ok");
  });
});

describe(".npy refusals name the file", () => {
  const good = fixture("train_000000.npy");
  const edited = (edit: (b: Uint8Array) => void) => {
    const b = good.slice();
    edit(b);
    return b;
  };
  const setHeader = (from: string, to: string) =>
    edited((b) => {
      const text = new TextDecoder("latin1").decode(b.subarray(10, 128)).replace(from, to);
      b.set(new TextEncoder().encode(text), 10);
    });

  it("refuses a wrong dtype, with the dtype found", () => {
    expectFault(() => readNpyU64(good, "train_000000.npy"), "dtype", "train_000000.npy");
    expectFault(() => readNpyU32(setHeader("'<u4'", "'<i4'"), "a.npy"), "dtype", "a.npy");
    expectFault(() => readNpyU32(setHeader("'<u4'", "'>u4'"), "a.npy"), "dtype", "a.npy");
  });

  it("refuses truncated data and trailing bytes", () => {
    expectFault(() => readNpyU32(good.subarray(0, good.length - 1), "t.npy"), "truncated", "t.npy");
    expectFault(() => readNpyU32(good.subarray(0, 60), "t.npy"), "truncated", "t.npy");
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expectFault(() => readNpyU32(longer, "t.npy"), "trailing", "t.npy");
  });

  it("refuses a bad magic, version, header, fortran order or shape", () => {
    expectFault(
      () =>
        readNpyU32(
          edited((b) => {
            b[1] = 0x41;
          }),
          "m.npy",
        ),
      "magic",
      "m.npy",
    );
    expectFault(
      () =>
        readNpyU32(
          edited((b) => {
            b[6] = 4;
          }),
          "v.npy",
        ),
      "version",
      "v.npy",
    );
    expectFault(() => readNpyU32(setHeader("{'descr'", "['descr'"), "h.npy"), "header", "h.npy");
    expectFault(
      () =>
        readNpyU32(
          edited((b) => {
            b[127] = 0x20;
          }),
          "h.npy",
        ),
      "header",
      "h.npy",
    );
    expectFault(() => readNpyU32(setHeader("False", "True "), "f.npy"), "fortran_order", "f.npy");
    expectFault(() => readNpyU32(setHeader("(20,), ", "(4, 5),"), "s.npy"), "shape", "s.npy");
  });
});

describe("prepare-data --tokenizer", () => {
  it("encodes each document, appends EOS and measures bytes per token", async () => {
    const llama2 = await loadTokenizer("llama2");
    const docs = splitDocuments("the cat,\n\n  \nthe dog.\n", "paragraphs");
    expect(docs).toEqual(["the cat,", "the dog."]);
    const data = templarData(docs, llama2, 4);
    const tokens = readNpyU32(data.files.get("train_000000.npy") as Uint8Array, "train_000000.npy");
    // Each document starts with SentencePiece's `▁the` (278) and ends with </s> (2).
    expect(Array.from(tokens)).toEqual([...llama2.encode("the cat,"), 2, ...llama2.encode("the dog."), 2]);
    expect(tokens[0]).toBe(278);
    expect(tokens[4]).toBe(278);
    expect(data.samples).toBe(Math.floor(tokens.length / 4));
    expect(readNpyU64(data.files.get("sample_ids_000000.npy") as Uint8Array, "ids")).toEqual(sampleIds(tokens, 4));
    expect(data.bytesPerToken).toBeCloseTo(16 / (tokens.length - 2), 12);
  });

  it("writes the shard from the command line", () => {
    const corpus = path.join(tmp, "corpus.txt");
    const [first, second] = ["First Citizen:\nBefore we proceed any further, hear me speak.", "All:\nSpeak, speak."];
    writeFileSync(corpus, `${first}\n\n${second}\n`);
    const root = path.join(import.meta.dirname, "../..");
    const args = ["scripts/prepare-data.ts", "--tokenizer", "bytes", "--corpus", corpus, "--out", tmp];
    const stdout = execFileSync(process.execPath, [...args, "--seq-len", "16", "--documents", "paragraphs"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(stdout).toContain("bytes: 1.0000 bytes per token");
    const dir = path.join(tmp, "templar-data", "bytes");
    const tokens = readNpyU32(new Uint8Array(readFileSync(path.join(dir, "train_000000.npy"))), "train");
    expect(tokens.length).toBe(first.length + 1 + second.length + 1);
    expect(tokens[first.length]).toBe(0); // EOS after the first paragraph
    const ids = readNpyU64(new Uint8Array(readFileSync(path.join(dir, "sample_ids_000000.npy"))), "ids");
    expect(ids).toEqual(sampleIds(tokens, 16));
    expect(ids.length).toBe(Math.floor(tokens.length / 16));
  });
});

describe("TemplarShard (positional reads from disk)", () => {
  it("reads numpy's shard: sample ids and samples", async () => {
    const shard = await TemplarShard.open(FIXTURES, 0, SEQ_LEN);
    try {
      expect(shard.samples).toBe(2);
      expect(shard.sampleIds).toEqual(readNpyU64(fixture("sample_ids_000000.npy"), "ids"));
      const tokens = readNpyU32(fixture("train_000000.npy"), "train");
      for (let i = 0; i < 2; i++) expect(await shard.sample(i)).toEqual(templarSample(tokens, i, SEQ_LEN));
      await expect(shard.sample(2)).rejects.toThrow(RangeError);
    } finally {
      await shard.close();
    }
  });

  it("refuses a missing, truncated or wrong-dtype file, naming it", async () => {
    const dir = path.join(tmp, "shard");
    const missing = path.join(dir, "sample_ids_000000.npy");
    await expect(TemplarShard.open(dir, 0, SEQ_LEN)).rejects.toMatchObject({
      code: "DATA_FILE_INVALID",
      details: { reason: "missing", file: missing },
    });
    mkdirSync(dir, { recursive: true });
    writeFileSync(missing, fixture("sample_ids_000000.npy"));
    const train = path.join(dir, "train_000000.npy");
    writeFileSync(train, fixture("train_000000.npy").subarray(0, 200));
    await expect(TemplarShard.open(dir, 0, SEQ_LEN)).rejects.toMatchObject({
      code: "DATA_FILE_INVALID",
      message: expect.stringContaining(train),
      details: { reason: "truncated", file: train },
    });
    writeFileSync(train, fixture("sample_ids_000000.npy"));
    await expect(TemplarShard.open(dir, 0, SEQ_LEN)).rejects.toMatchObject({
      details: { reason: "dtype", file: train, dtype: "<u8", expected: "<u4" },
    });
  });
});
