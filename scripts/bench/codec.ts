/**
 * `npm run bench:codec`: codec throughput, each figure a ratio to a baseline timed in this run.
 *
 * 1. encode and decode of a 100M-parameter layout, against copying as many bytes;
 * 2. decode+apply (DCT off) on two layouts of very different size with the same number of
 *    selected coordinates: it touches only those, so its time follows k, not the parameter count;
 * 3. DCT-on decode, against Float32Array.prototype.set of the same size.
 *
 * Options: --runs N (default 3), --quick (smaller layouts, for a smoke run).
 */
import { parseArgs } from "node:util";
import { chunkElementOffsets, chunkOrigin, gradientLayout, type ParamLayout } from "../../schema/codec/chunking.ts";
import { applyGradient, ChunkDecoder, decompressParam } from "../../schema/codec/decode.ts";
import { compressGradient, encodeGradient } from "../../schema/codec/encode.ts";
import type { CompressedParam, GradientIdentity } from "../../schema/codec/gradient-format.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import { validateGradient } from "../../schema/codec/validate.ts";
import { getHparams } from "../../schema/hparams.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { environment, table, time } from "./measure.ts";
import { randomFlat } from "./synthetic.ts";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "3" }, quick: { type: "boolean", default: false } },
});
const RUNS = Number(args.runs);
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

function section1(): string {
  const manifest = QUICK ? transformer(256, 4) : transformer(1024, 8);
  const compression = base.compression;
  const layouts = gradientLayout(manifest, compression);
  const n = totalOf(layouts);
  process.stderr.write(`1. encode/decode, ${manifest.model}: ${(n / 1e6).toFixed(1)}M parameters\n`);
  const gradient = randomFlat(n, 1);
  const parameters = randomFlat(n, 2);
  let file: Uint8Array = new Uint8Array(0);
  const copy = time(`copy ${(4 * n) / 1e6} MB`, copyBaseline(4 * n), RUNS);
  const encode = time(
    "encode (compress + write)",
    () => {
      file = encodeGradient({ identity: IDENTITY, gradient, parameters, layouts, compression, sync: base.sync }).file;
    },
    RUNS,
  );
  const opts = { manifest, hparams: base };
  const validate = time("validate (streaming checks of the whole file)", () => void validateGradient(file, opts), RUNS);
  const decode = time(
    "decode (validate + decompress to dense)",
    () => {
      const read = readGradientFile(file, opts);
      for (const [i, p] of read.params.entries()) decompressParam(p, read.layouts[i] as ParamLayout, false);
    },
    RUNS,
  );
  const mparams = (ms: number) => n / 1e3 / ms;
  return [
    `**1. Encode and decode, ${manifest.model} (${(n / 1e6).toFixed(1)}M parameters, file ${(file.length / 1e6).toFixed(2)} MB, DCT off)**`,
    "",
    table(
      ["step", "ms", "M params/s", "× copying the same bytes"],
      [
        [`baseline: copy ${((4 * n) / 1e6).toFixed(0)} MB (Uint8Array.set)`, copy.ms, mparams(copy.ms), 1],
        ["encode: compress + write file", encode.ms, mparams(encode.ms), encode.ms / copy.ms],
        ["validate the file", validate.ms, mparams(validate.ms), validate.ms / copy.ms],
        ["decode: validate + decompress to dense", decode.ms, mparams(decode.ms), decode.ms / copy.ms],
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
    const params = compressGradient(randomFlat(n, 2), layouts, c.compression);
    const theta = randomFlat(n, 3);
    const positions = selectedPositions(params, layouts);
    const apply = time(`${label}: apply`, () => applyGradient(theta, params, layouts, false, 1e-3), RUNS);
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
    rows.push([
      label,
      `${(n / 1e6).toFixed(1)}M`,
      `${(selected / 1e6).toFixed(2)}M`,
      apply.ms,
      (apply.ms * 1e6) / selected,
      apply.ms / dense.ms,
      apply.ms / scatter.ms,
    ]);
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
console.log(`${section1()}\n\n${section2()}\n\n${section3()}`);
