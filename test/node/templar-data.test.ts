// Templar's data format against numpy: test/node/fixtures/npy/ comes from
// scripts/fixtures/npy-fixtures.py (numpy.save, hashlib.blake2b), so the writer must match it
// byte for byte and the reader must return its values. Where python3 with numpy is installed,
// numpy also reads what we write; CI has only Node and relies on the committed fixtures.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type NpyFault, readNpyU32, readNpyU64, writeNpyU32, writeNpyU64 } from "../../schema/data/npy.ts";
import {
  concatDocuments,
  sampleIds,
  sampleIdsName,
  templarSample,
  tokenShardName,
} from "../../schema/data/templar-shards.ts";

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

  it("reads numpy's files (v1.0 and v2.0) and recomputes its blake2b sample ids", () => {
    expect(readNpyU32(fixture("train_000000.npy"), "train_000000.npy")).toEqual(tokens);
    expect(readNpyU32(fixture("train_v2.npy"), "train_v2.npy")).toEqual(tokens);
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
