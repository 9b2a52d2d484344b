// The pure copy logic: Templar's overlap and grading cases (docs/PROTOCOL.md §5), the fast pairwise
// kernel against a per-chunk reference, and the seed-driven chunk sample.
import { describe, expect, it } from "vitest";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { chunkOverlap } from "../../schema/codec/index-overlap.ts";
import {
  type CopyCandidate,
  copyGrade,
  type Fingerprint,
  findCopies,
  forEachOverlap,
} from "../../schema/copies/find-copies.ts";
import { fingerprintSample } from "../../schema/copies/fingerprint-sample.ts";
import { getHparams } from "../../schema/hparams.ts";
import { rng, TEST_MANIFEST } from "./fixtures/gradients.ts";

const copy = getHparams("default").copy;

function sub(id: number, receivedAtMs: number, digest = `d${id}`): CopyCandidate {
  return { submissionId: id, uid: id, window: 1, receivedAtMs, tensorDigest: digest };
}
const print = (idx: number[]): Fingerprint => ({ p: { k: idx.length, chunks: { 0: idx } } });

describe("copy grades and offenders", () => {
  it("grades as Templar's determine_slash_egregiousness", () => {
    expect([0.0, 0.499, 0.501, 0.599, 0.601, 1.0].map((o) => copyGrade(o, copy))).toEqual([
      "high",
      "high",
      "max",
      "max",
      "mega",
      "mega",
    ]);
  });

  it("flags identical index sets, the later receipt as offender, graded mega", () => {
    const found = findCopies(
      [
        { ...sub(1, 100), fingerprint: print([0, 1, 2, 3]) },
        { ...sub(2, 200), fingerprint: print([0, 1, 2, 3]) },
      ],
      [],
      copy,
    );
    expect(found).toEqual([
      expect.objectContaining({
        kind: "near",
        overlap: 1,
        grade: "mega",
        offender: expect.objectContaining(sub(2, 200)),
        original: expect.objectContaining(sub(1, 100)),
      }),
    ]);
  });

  it("does not flag disjoint sets, and flags half-overlapping ones at 0.5 as max", () => {
    const disjoint = findCopies(
      [
        { ...sub(1, 100), fingerprint: print([0, 1, 2, 3]) },
        { ...sub(2, 200), fingerprint: print([4, 5, 6, 7]) },
      ],
      [],
      copy,
    );
    expect(disjoint).toEqual([]);
    const half = findCopies(
      [
        { ...sub(1, 100), fingerprint: print([0, 1, 2, 3]) },
        { ...sub(2, 200), fingerprint: print([2, 3, 4, 5]) },
      ],
      [],
      copy,
    );
    expect(half).toEqual([expect.objectContaining({ overlap: 0.5, grade: "max" })]);
    const two: Fingerprint = { p: { k: 4, chunks: { 0: [0, 1, 2, 3], 1: [0, 1, 2, 3] } } };
    const other: Fingerprint = { p: { k: 4, chunks: { 0: [0, 1, 2, 3], 1: [4, 5, 6, 7] } } };
    expect(
      findCopies(
        [
          { ...sub(1, 1), fingerprint: two },
          { ...sub(2, 2), fingerprint: other },
        ],
        [],
        copy,
      )[0]?.overlap,
    ).toBe(0.5);
  });

  it("makes the second and third of three identical submissions offenders, and one of two equal receipts", () => {
    const three = findCopies(
      [100, 200, 300].map((t, i) => ({ ...sub(i + 1, t), fingerprint: print([0, 1, 2, 3]) })),
      [],
      copy,
    );
    expect(new Set(three.map((f) => f.offender.submissionId))).toEqual(new Set([2, 3]));
    const tie = findCopies(
      [
        { ...sub(1, 100), fingerprint: print([0, 1]) },
        { ...sub(2, 100), fingerprint: print([0, 1]) },
      ],
      [],
      copy,
    );
    expect(tie.map((f) => f.offender.submissionId)).toEqual([2]);
  });

  it("flags equal tensor digests as exact copies, within the window and of an earlier window", () => {
    const current = [
      { ...sub(5, 100, "same"), fingerprint: print([0, 1]) },
      { ...sub(6, 50, "same"), fingerprint: print([0, 1]) },
      { ...sub(7, 10, "old"), fingerprint: print([2, 3]) },
    ];
    const found = findCopies(current, [{ ...sub(1, 1, "old"), window: 0 }], copy);
    expect(
      found
        .filter((f) => f.kind === "exact")
        .map((f) => [f.offender.submissionId, f.original.submissionId])
        .sort(),
    ).toEqual([
      [5, 6],
      [7, 1],
    ]);
    expect(found.every((f) => f.kind === "exact")).toBe(true); // equal digests are not also near pairs
  });
});

describe("pairwise overlap kernel", () => {
  it("equals the per-chunk reference Σ|A∩B| / Σk on random fingerprints", () => {
    const next = rng(5);
    const slots = [
      { param: "a", chunk: 3, k: 64, totalk: 4096 },
      { param: "a", chunk: 9, k: 64, totalk: 4096 },
      { param: "b", chunk: 0, k: 26, totalk: 64 },
    ];
    const prints: Fingerprint[] = Array.from({ length: 12 }, () => {
      const fp: Record<string, { k: number; chunks: Record<number, number[]> }> = {};
      for (const s of slots) {
        const set = new Set<number>();
        // a range narrower than the chunk (twice k), so pairs really overlap
        while (set.size < s.k) set.add(Math.floor(next() * Math.min(s.totalk, 2 * s.k)));
        fp[s.param] ??= { k: s.k, chunks: {} };
        fp[s.param].chunks[s.chunk] = [...set];
      }
      return fp;
    });
    let pairs = 0;
    forEachOverlap(prints, (i, j, overlap) => {
      let shared = 0;
      for (const s of slots) {
        shared +=
          chunkOverlap(prints[i]?.[s.param]?.chunks[s.chunk] ?? [], prints[j]?.[s.param]?.chunks[s.chunk] ?? [], s.k) *
          s.k;
      }
      expect(overlap).toBeCloseTo(shared / (64 + 64 + 26), 12);
      expect(overlap).toBeGreaterThan(0);
      pairs++;
    });
    expect(pairs).toBe(66);
  });
});

describe("fingerprint chunk sample", () => {
  // 160 chunks of 64×64 to sample from, besides the test manifest's own (mostly dense) parameters
  const wide = Array.from({ length: 10 }, (_, i) => ({ name: `w${i}`, shape: [256, 256] }));
  const layouts = gradientLayout(
    { model: "sample", parameters: [...TEST_MANIFEST.parameters, ...wide] },
    getHparams("local").compression,
  );
  const seed = `0x${"ab".repeat(32)}`;

  it("is a deterministic function of the seed hash, draws distinct chunks, and skips dense ones", () => {
    const a = fingerprintSample(seed, layouts, { fingerprint_chunks: 8, fingerprint_exclude: [] });
    expect(fingerprintSample(seed, layouts, { fingerprint_chunks: 8, fingerprint_exclude: [] })).toEqual(a);
    expect(
      fingerprintSample(`0x${"cd".repeat(32)}`, layouts, { fingerprint_chunks: 8, fingerprint_exclude: [] }),
    ).not.toEqual(a);
    const drawn = [...a.values()].flat();
    expect(drawn).toHaveLength(8);
    for (const [param, chunks] of a) {
      const layout = layouts.find((l) => l.name === param);
      expect(layout && layout.k < layout.totalk).toBe(true);
      expect(new Set(chunks).size).toBe(chunks.length);
      expect(chunks.every((c) => c >= 0 && c < (layout?.chunks ?? 0))).toBe(true);
    }
    // asking for more chunks than exist returns all non-dense chunks
    const all = fingerprintSample(seed, layouts, { fingerprint_chunks: 10_000, fingerprint_exclude: [] });
    expect([...all.values()].flat()).toHaveLength(
      layouts.filter((l) => l.k < l.totalk).reduce((n, l) => n + l.chunks, 0),
    );
  });

  it("never draws an excluded parameter, and draws as many chunks from the rest", () => {
    const excluded = ["w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"];
    expect([
      ...fingerprintSample(seed, layouts, { fingerprint_chunks: 10_000, fingerprint_exclude: [] }).keys(),
    ]).toEqual(expect.arrayContaining(excluded));
    const sample = fingerprintSample(seed, layouts, { fingerprint_chunks: 8, fingerprint_exclude: excluded });
    expect([...sample.keys()].filter((p) => excluded.includes(p))).toEqual([]);
    expect([...sample.values()].flat()).toHaveLength(8);
    const rest = fingerprintSample(seed, layouts, { fingerprint_chunks: 10_000, fingerprint_exclude: excluded });
    expect([...rest.values()].flat()).toHaveLength(
      layouts.filter((l) => l.k < l.totalk && !excluded.includes(l.name)).reduce((n, l) => n + l.chunks, 0),
    );
  });

  it("leaves llama-tiny's token embedding out, where honest miners share the frequent tokens' rows", () => {
    const hp = getHparams("llama-tiny");
    expect(hp.copy.fingerprint_exclude).toEqual(["model.embed_tokens.weight"]);
    expect(getHparams("default").copy.fingerprint_exclude).toEqual([]);
  });
});
