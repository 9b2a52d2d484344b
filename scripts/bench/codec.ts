/**
 * `npm run bench:codec`: codec throughput, each figure a ratio to a baseline timed in this run,
 * gradient format v1 (12-bit indices) beside v2 (Elias-Fano indices).
 *
 * 1. encode (one thread, and the worker pool of scripts/miner/parallel-encode.ts) and decode of
 *    a 100M-parameter layout, against copying as many bytes; bytes per chunk of each format;
 * 2. decode+apply (DCT off) on two layouts of very different size with the same number of
 *    selected coordinates: it touches only those, so its time follows k, not the parameter count;
 * 3. DCT-on decode, against Float32Array.prototype.set of the same size.
 *
 * Options: --runs N (default 3), --threads N (default: the cores available), --quick (smaller
 * layouts, for a smoke run).
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { chunkElementOffsets, chunkOrigin, gradientLayout, type ParamLayout } from "../../schema/codec/chunking.ts";
import { applyGradient, ChunkDecoder, decompressParam } from "../../schema/codec/decode.ts";
import { compressGradient, type EncodeRequest, encodeGradient } from "../../schema/codec/encode.ts";
import { FORMAT_VERSIONS, type FormatVersion } from "../../schema/codec/format-version.ts";
import type { CompressedParam, GradientIdentity } from "../../schema/codec/gradient-format.ts";
import { indexBytesPerChunk } from "../../schema/codec/index-coding.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import { validateGradient } from "../../schema/codec/validate.ts";
import { getHparams } from "../../schema/hparams.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { ParallelEncoder, sharedFloat32Array } from "../miner/parallel-encode.ts";
import { simdAvailable } from "../miner/simd-scan.ts";
import { environment, table, time, timeAlternating, timeAsync } from "./measure.ts";
import { randomFlat } from "./synthetic.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    threads: { type: "string", default: String(availableParallelism()) },
    quick: { type: "boolean", default: false },
  },
});
const RUNS = Number(args.runs);
const THREADS = Number(args.threads);
const QUICK = args.quick;
const base = getHparams("default");

/** A decoder-only transformer's parameter layout: d_model, layers, MLP 4·d, byte vocab. */
function transformer(d: number, layers: number): ModelManifest {
  const parameters = [{ name: "tok_emb", shape: [256, d] }];
  for (let l = 0; l < layers; l++) {
    for (const w of ["wq", "wk", "wv", "wo"]) parameters.push({ name: `layers.${l}.attn.${w}`, shape: [d, d] });
    parameters.push(
      { name: `layers.${l}.mlp.w1`, shape: [4 * d, d] },
      { name: `layers.${l}.mlp.w2`, shape: [d, 4 * d] },
    );
    parameters.push({ name: `layers.${l}.norm1`, shape: [d] }, { name: `layers.${l}.norm2`, shape: [d] });
  }
  parameters.push({ name: "norm", shape: [d] }, { name: "head", shape: [d, 256] });
  return { model: `transformer-d${d}-l${layers}`, parameters };
}

/** `count` square matrices of side `n`. */
function squares(n: number, count: number): ModelManifest {
  return {
    model: `${count}x${n}x${n}`,
    parameters: Array.from({ length: count }, (_, i) => ({ name: `w${i}`, shape: [n, n] })),
  };
}

/** Absolute positions, in the flat vector, of every selected coordinate. */
function selectedPositions(params: readonly CompressedParam[], layouts: readonly ParamLayout[]): Int32Array {
  const out = new Int32Array(layouts.reduce((n, l) => n + l.chunks * l.k, 0));
  let at = 0;
  let offset = 0;
  layouts.forEach((layout, i) => {
    const decoder = new ChunkDecoder(params[i] as CompressedParam, layout);
    const offsets = chunkElementOffsets(layout);
    for (let c = 0; c < layout.chunks; c++) {
      decoder.read(c);
      const origin = offset + chunkOrigin(layout, c);
      for (let t = 0; t < layout.k; t++) out[at++] = origin + offsets[decoder.idx[t]];
    }
    offset += layout.numel;
  });
  return out;
}

const totalOf = (layouts: readonly ParamLayout[]) => layouts.reduce((n, l) => n + l.numel, 0);
const selectedOf = (layouts: readonly ParamLayout[]) => layouts.reduce((n, l) => n + l.chunks * l.k, 0);
const IDENTITY: GradientIdentity = {
  netuid: 3,
  window: 1,
  uid: 1,
  hotkey: "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
  base_window: 1,
};

/** Bytes copy of `bytes` bytes: the baseline of section 1. */
function copyBaseline(bytes: number): () => void {
  const src = new Uint8Array(bytes).fill(7);
  const dst = new Uint8Array(bytes);
  return () => dst.set(src);
}

/** Bytes of Templar's coding of one 64×64 chunk at top-64, for reference. */
const TEMPLAR_CHUNK_BYTES = 163;

/** log2 C(n, k) / 8: the fewest bytes that can tell apart every set of k indices below n. */
function subsetBound(n: number, k: number): number {
  let bits = 0;
  for (let i = 0; i < k; i++) bits += Math.log2((n - i) / (i + 1));
  return bits / 8;
}

/** Bytes per chunk of each coding, at the layout's own 64×64 chunks. */
function sizeTable(layouts: readonly ParamLayout[], files: Map<FormatVersion, Uint8Array>): string {
  const square = layouts.find((l) => l.totalk === 4096) ?? (layouts[0] as ParamLayout);
  const chunks = layouts.reduce((n, l) => n + l.chunks, 0);
  const codes = square.codeBytesPerChunk;
  const rows: (string | number)[][] = FORMAT_VERSIONS.map((v) => {
    const idx = indexBytesPerChunk(square, v);
    const file = files.get(v)?.length ?? 0;
    return [
      v === 1 ? "v1: 12-bit indices" : "v2: Elias-Fano indices",
      idx,
      idx + codes,
      file / chunks,
      (file / 1e6).toFixed(2),
    ];
  });
  const bound = subsetBound(square.totalk, square.k);
  rows.push(
    ["Templar, for reference", "", TEMPLAR_CHUNK_BYTES, "", ""],
    [`information bound: log2 C(${square.totalk}, ${square.k})/8 + 2-bit codes`, bound, bound + codes, "", ""],
  );
  return table(
    [
      `coding (${square.h}×${square.w} chunk, k = ${square.k})`,
      "index bytes per chunk",
      "+ codes",
      "file bytes per chunk, all included",
      "file MB",
    ],
    rows,
  );
}

async function section1(): Promise<string> {
  const manifest = QUICK ? transformer(256, 4) : transformer(1024, 8);
  const compression = base.compression;
  const layouts = gradientLayout(manifest, compression);
  const n = totalOf(layouts);
  process.stderr.write(`1. encode/decode, ${manifest.model}: ${(n / 1e6).toFixed(1)}M parameters\n`);
  const gradient = randomFlat(n, 1);
  const parameters = randomFlat(n, 2);
  const shared = sharedFloat32Array(n);
  shared.set(gradient);
  const copy = time(`copy ${(4 * n) / 1e6} MB`, copyBaseline(4 * n), RUNS);
  const toShared = time("copy the gradient into shared memory", () => shared.set(gradient), RUNS);
  const pool = new ParallelEncoder(THREADS);
  // One worker: what the SIMD scan and the worker's finishing give without a second core.
  const single = new ParallelEncoder(1);
  const files = new Map<FormatVersion, Uint8Array>();
  const rows = new Map<string, number[]>();
  const add = (step: string, ms: number) => rows.set(step, [...(rows.get(step) ?? []), ms]);
  const opts = { manifest, hparams: base };
  try {
    for (const version of FORMAT_VERSIONS) {
      const req: EncodeRequest = {
        identity: IDENTITY,
        gradient,
        parameters,
        layouts,
        compression,
        sync: base.sync,
        formatVersion: version,
      };
      let file: Uint8Array = new Uint8Array(0);
      const one = time(
        `v${version} encode, 1 thread`,
        () => {
          file = encodeGradient(req).file;
        },
        RUNS,
      );
      let pooled: Uint8Array = new Uint8Array(0);
      const oneWorker = await timeAsync(
        `v${version} encode, pool of 1 thread, gradient in shared memory`,
        async () => void (await single.encode({ ...req, gradient: shared })),
        RUNS,
      );
      const many = await timeAsync(
        `v${version} encode, ${THREADS} threads, gradient in shared memory`,
        async () => {
          pooled = (await pool.encode({ ...req, gradient: shared })).file;
        },
        RUNS,
      );
      if (!Buffer.from(pooled).equals(Buffer.from(file)))
        throw new Error(`v${version}: the ${THREADS}-thread file differs from the one-thread file`);
      const copied = await timeAsync(
        `v${version} encode, ${THREADS} threads, gradient not shared (the copy in counted)`,
        async () => void (await pool.encode(req)),
        RUNS,
      );
      files.set(version, file);
      add("encode, 1 thread, encodeGradient (JavaScript): compress + write file", one.ms);
      add("encode, pool of 1 thread (SIMD scan), gradient already in shared memory", oneWorker.ms);
      add(`encode, ${THREADS} threads, gradient already in shared memory`, many.ms);
      add(`encode, ${THREADS} threads, gradient not shared (the copy in counted)`, copied.ms);
    }
  } finally {
    await pool.close();
    await single.close();
  }
  // The two versions' files alternately, run after run, so that load drift falls on both alike.
  const both = FORMAT_VERSIONS.map((v) => files.get(v) as Uint8Array);
  for (const t of timeAlternating(
    "validate v1, v2",
    both.map((file) => () => void validateGradient(file, opts)),
    RUNS,
  ))
    add("validate the file", t.ms);
  for (const t of timeAlternating(
    "decode v1, v2 (validate + decompress to dense)",
    both.map((file) => () => {
      const read = readGradientFile(file, opts);
      for (const [i, p] of read.params.entries()) decompressParam(p, read.layouts[i] as ParamLayout, false);
    }),
    RUNS,
  ))
    add("decode: validate + decompress to dense", t.ms);
  const x = (ms: number) => ms / copy.ms;
  return [
    `**1. Encode and decode, ${manifest.model} (${(n / 1e6).toFixed(1)}M parameters, DCT off, ${THREADS} encoder threads, ${simdAvailable() ? "WebAssembly SIMD scan" : "no WebAssembly SIMD: JavaScript scan"})**`,
    "",
    sizeTable(layouts, files),
    "",
    table(
      ["step", "v1 ms", "v1 × copy", "v2 ms", "v2 × copy"],
      [
        [`baseline: copy ${((4 * n) / 1e6).toFixed(0)} MB (Uint8Array.set)`, copy.ms, 1, copy.ms, 1],
        [
          "copy the gradient into shared memory (Float32Array.set)",
          toShared.ms,
          x(toShared.ms),
          toShared.ms,
          x(toShared.ms),
        ],
        ...[...rows].map(([step, [v1 = 0, v2 = 0]]) => [step, v1, x(v1), v2, x(v2)]),
      ],
    ),
  ].join("\n");
}

function section2(): string {
  // Same chunk count and k, so the same number of selected coordinates; 16× the parameters.
  const big = { manifest: squares(QUICK ? 1024 : 4096, 6), compression: { ...base.compression, target_chunk: 64 } };
  const small = { manifest: squares(QUICK ? 256 : 1024, 6), compression: { ...base.compression, target_chunk: 16 } };
  const half = { manifest: big.manifest, compression: { ...big.compression, topk_compression: 32 } };
  const rows: (string | number)[][] = [];
  process.stderr.write("2. decode+apply (DCT off), same k on layouts of different size\n");
  for (const [label, c] of [
    ["large, k = 64 per 64×64 chunk", big],
    ["small, k = 64 per 16×16 chunk", small],
    ["large, k = 32 per 64×64 chunk", half],
  ] as const) {
    const layouts = gradientLayout(c.manifest, c.compression);
    const n = totalOf(layouts);
    const g = randomFlat(n, 2);
    const theta = randomFlat(n, 3);
    // The same selection in both codings; only the index decoding differs.
    const byVersion = FORMAT_VERSIONS.map((v) => compressGradient(g, layouts, c.compression, v));
    const positions = selectedPositions(byVersion[0] as CompressedParam[], layouts);
    const applies = timeAlternating(
      `${label}: apply v1, v2`,
      byVersion.map((params) => () => applyGradient(theta, params, layouts, false, 1e-3)),
      RUNS,
    );
    const dense = time(
      `${label}: baseline dense pass`,
      () => {
        for (let i = 0; i < n; i++) theta[i] -= 1e-9 * theta[i];
      },
      RUNS,
    );
    // The memory floor: the same writes at the same positions, with nothing to decode.
    const scatter = time(
      `${label}: baseline scatter to the same positions`,
      () => {
        for (let i = 0; i < positions.length; i++) theta[positions[i] as number] -= 1e-9;
      },
      RUNS,
    );
    const selected = selectedOf(layouts);
    for (const [v, apply] of applies.entries()) {
      rows.push([
        `${label}, v${v + 1}`,
        `${(n / 1e6).toFixed(1)}M`,
        `${(selected / 1e6).toFixed(2)}M`,
        apply.ms,
        (apply.ms * 1e6) / selected,
        apply.ms / dense.ms,
        apply.ms / scatter.ms,
      ]);
    }
  }
  return [
    "**2. Decode+apply θ ← θ − lr·g into a Float32Array (DCT off): cost follows the selected coordinates**",
    "",
    table(
      [
        "layout",
        "parameters",
        "selected",
        "apply ms",
        "ns per selected",
        "÷ a dense pass over θ",
        "÷ bare writes to the same positions",
      ],
      rows,
    ),
  ].join("\n");
}

function section3(): string {
  const manifest = QUICK ? transformer(128, 2) : transformer(512, 8);
  const compression = { ...base.compression, use_dct: true };
  const layouts = gradientLayout(manifest, compression);
  const n = totalOf(layouts);
  process.stderr.write(`3. DCT-on decode, ${manifest.model}: ${(n / 1e6).toFixed(1)}M parameters\n`);
  const params = compressGradient(randomFlat(n, 4), layouts, compression);
  const src = randomFlat(n, 5);
  const dst = new Float32Array(n);
  const set = time("baseline: Float32Array.prototype.set", () => dst.set(src), RUNS);
  const decode = time(
    "decompress to dense with inverse DCT",
    () => {
      for (const [i, l] of layouts.entries()) decompressParam(params[i] as CompressedParam, l, true);
    },
    RUNS,
  );
  const decodeOff = time(
    "the same, DCT off",
    () => {
      for (const [i, l] of layouts.entries()) decompressParam(params[i] as CompressedParam, l, false);
    },
    RUNS,
  );
  return [
    `**3. DCT-on decode, ${manifest.model} (${(n / 1e6).toFixed(1)}M parameters)**`,
    "",
    table(
      ["step", "ms", "M params/s", "× Float32Array.set"],
      [
        ["baseline: Float32Array.prototype.set", set.ms, n / 1e3 / set.ms, 1],
        ["decode, DCT on (sparse inverse DCT per chunk)", decode.ms, n / 1e3 / decode.ms, decode.ms / set.ms],
        ["decode, DCT off", decodeOff.ms, n / 1e3 / decodeOff.ms, decodeOff.ms / set.ms],
      ],
    ),
  ].join("\n");
}

console.log(`Codec benchmark (${environment()}, median of ${RUNS} runs${QUICK ? ", --quick" : ""})\n`);
console.log(`${await section1()}\n\n${section2()}\n\n${section3()}`);
