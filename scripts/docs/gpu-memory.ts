/**
 * The GPU memory tables of docs/DEPLOY.md §8.2, computed from the llama manifests of the shapes
 * Templar ran (schema/model/llama.ts) and the `default` profile's compression (top-k per chunk).
 * Nothing here is measured: they are byte counts of tensors, and the verdicts compare those sums
 * with assumed usable GPU memory. `node scripts/docs/gpu-memory.ts` prints the tables;
 * `npm run docs:deploy` (with `--write`) rewrites them in docs/DEPLOY.md between
 * `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`. test/node/docs.test.ts fails when
 * they drift.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { type CompressionHparams, PROFILES } from "../../schema/hparams.ts";
import {
  type LlamaConfig,
  llamaManifest,
  TEMPLAR_1B,
  TEMPLAR_8B,
  TEMPLAR_72B,
  TEMPLAR_150M,
} from "../../schema/model/llama.ts";
import { numel } from "../../schema/model/manifest.ts";
import { withGeneratedRegions } from "./generated-regions.ts";

/** Tokens of one evaluation sample (Templar's `sequence_length`). */
export const SAMPLE_TOKENS = 2048;

const GiB = 2 ** 30;

/**
 * Usable memory assumed per GPU: an "80 GB" H100/A100 and a "141 GB" H200 (GPU memory is sized
 * in binary units), less about 1.5 GiB for the CUDA context, cuBLAS/cuDNN and the arena.
 */
export const GPU_BUDGETS = { "80 GB": 78 * GiB, H200: 139 * GiB } as const;

export const SHAPES: readonly (readonly [string, LlamaConfig])[] = [
  ["150M", TEMPLAR_150M],
  ["1B", TEMPLAR_1B],
  ["8B", TEMPLAR_8B],
  ["72B", TEMPLAR_72B],
];

export interface GpuMemory {
  readonly name: string;
  readonly parameters: number;
  readonly largestParameter: number;
  /** Nonzeros of one sparse delta feed: top-k of every chunk (every element of 1-D parameters). */
  readonly deltaNonzeros: number;
  /** Parameters too large for int32 flat indices. */
  readonly int64Parameters: readonly string[];
  /** Bytes of one 2048-token sample's forward. */
  readonly logits: number;
  readonly attentionProbs: number;
  readonly hidden: number;
}

/** The byte counts of one shape. */
export function gpuMemory(name: string, c: LlamaConfig, compression: CompressionHparams): GpuMemory {
  const manifest = llamaManifest(c);
  const T = SAMPLE_TOKENS;
  let parameters = 0;
  let largestParameter = 0;
  for (const p of manifest.parameters) {
    const n = numel(p.shape);
    parameters += n;
    largestParameter = Math.max(largestParameter, n);
  }
  let deltaNonzeros = 0;
  for (const l of gradientLayout(manifest, compression)) deltaNonzeros += l.chunks * l.k;
  return {
    name,
    parameters,
    largestParameter,
    deltaNonzeros,
    // A flat index runs to numel − 1; a tensor of 2^31 elements or more has a count int32 cannot hold.
    int64Parameters: manifest.parameters.filter((p) => numel(p.shape) >= 2 ** 31).map((p) => p.name),
    logits: c.vocab_size * T * 4,
    attentionProbs: c.num_attention_heads * T * T * 4,
    // The residual stream and its normed copy, and one layer's SwiGLU gate, up and product.
    hidden: (2 * c.hidden_size + 3 * c.intermediate_size) * T * 4,
  };
}

/** Activations of one sample: logits and log-softmax, scores and probabilities of one layer, hidden. */
export function activations(m: GpuMemory): number {
  return 2 * m.logits + 2 * m.attentionProbs + m.hidden;
}

/** Device bytes with θ fed as fp32 inputs every run (the delta applied on the host). */
export function fp32FedNeed(m: GpuMemory): number {
  return 4 * m.parameters + activations(m);
}

/**
 * Device bytes with θ resident as bf16 initializers and the delta fed sparse (int32 indices, fp32
 * values), plus the largest parameter's fp32 Cast and its scattered copy alive in the run.
 */
export function bf16ResidentNeed(m: GpuMemory): number {
  return 2 * m.parameters + 8 * m.deltaNonzeros + 2 * 4 * m.largestParameter + activations(m);
}

/** Fewest GPUs of `budget` holding the bf16-resident layout split by layers (each charged the transients). */
export function gpusForSplit(m: GpuMemory, budget: number): number {
  const shared = 2 * m.parameters + 8 * m.deltaNonzeros;
  const each = 2 * 4 * m.largestParameter + activations(m);
  if (each >= budget) return Number.POSITIVE_INFINITY;
  return Math.ceil(shared / (budget - each));
}

export function verdict(m: GpuMemory): string {
  const gb80 = GPU_BUDGETS["80 GB"];
  const h200 = GPU_BUDGETS.H200;
  if (fp32FedNeed(m) <= gb80) return "one 80 GB GPU, θ fed as fp32 every run or as bf16 initializers";
  if (bf16ResidentNeed(m) <= gb80) return "one 80 GB GPU, θ as bf16 initializers (not fed as fp32)";
  if (bf16ResidentNeed(m) <= h200) return "one H200 (141 GB), θ as bf16 initializers";
  return (
    `several GPUs, layers split (one InferenceSession each): at least ${gpusForSplit(m, gb80)} × 80 GB ` +
    `or ${gpusForSplit(m, h200)} × H200`
  );
}

const MiB = 2 ** 20;
const gib = (bytes: number) =>
  bytes < GiB ? `${Math.round(bytes / MiB)} MiB` : `${(bytes / GiB).toFixed(bytes < 10 * GiB ? 2 : 1)} GiB`;
const count = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(3)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : String(n);
const grouped = (n: number) => n.toLocaleString("en-US");

function memories(): GpuMemory[] {
  const compression = PROFILES.default.compression;
  return SHAPES.map(([name, c]) => gpuMemory(name, c, compression));
}

function sizesTable(ms: readonly GpuMemory[]): string {
  const lines = [
    "| shape | parameters | θ fp32 | θ bf16 | δ nonzeros | δ feed (int32 idx + fp32) | logits | log-softmax | attention probs (1 layer) | hidden states |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const m of ms) {
    const int64 = m.int64Parameters.length ? " ¹" : "";
    lines.push(
      `| ${m.name} | ${grouped(m.parameters)} (${count(m.parameters)}) | ${gib(4 * m.parameters)} | ${gib(2 * m.parameters)} | ` +
        `${grouped(m.deltaNonzeros)} | ${gib(8 * m.deltaNonzeros)}${int64} | ${gib(m.logits)} | ${gib(m.logits)} | ` +
        `${gib(m.attentionProbs)} | ${gib(m.hidden)} |`,
    );
  }
  const big = ms.filter((m) => m.int64Parameters.length);
  if (big.length) {
    lines.push("");
    for (const m of big) {
      const wide = m.int64Parameters.length * (2 ** 31 / 64);
      lines.push(
        `¹ ${m.name}: ${m.int64Parameters.map((n) => `\`${n}\``).join(" and ")} have 2³¹ elements each: their ` +
          "element count does not fit an int32 (the last flat index, 2³¹ − 1, is int32's largest value), so int32 " +
          "flat indices are not safe for them. Feed them int64 indices (12 bytes a nonzero: " +
          `${gib(8 * m.deltaNonzeros + 4 * wide)} for the whole feed) or split each by rows into tensors under 2³¹ elements.`,
      );
    }
  }
  return lines.join("\n");
}

function verdictTable(ms: readonly GpuMemory[]): string {
  const lines = [
    "| shape | activations, one sample | copied host→device per run, θ fed as fp32 | need, θ fed as fp32 | need, θ as bf16 initializers | verdict |",
    "|---|---|---|---|---|---|",
  ];
  for (const m of ms) {
    lines.push(
      `| ${m.name} | ${gib(activations(m))} | ${gib(4 * m.parameters)} | ${gib(fp32FedNeed(m))} | ` +
        `${gib(bf16ResidentNeed(m))} | ${verdict(m)} |`,
    );
  }
  return lines.join("\n");
}

/** Every generated region of docs/DEPLOY.md, by name. */
export function deployTables(): Record<string, string> {
  const ms = memories();
  return { "gpu-memory": sizesTable(ms), "gpu-verdict": verdictTable(ms) };
}

/** `text` with every generated region replaced by its current content. */
export function withDeployTables(text: string): string {
  return withGeneratedRegions(text, deployTables(), "docs/DEPLOY.md");
}

if (import.meta.main) {
  if (process.argv.includes("--write")) {
    const path = new URL("../../docs/DEPLOY.md", import.meta.url);
    writeFileSync(path, withDeployTables(readFileSync(path, "utf8")));
    console.log("docs/DEPLOY.md: GPU memory tables rewritten");
  } else {
    for (const [name, body] of Object.entries(deployTables())) console.log(`<!-- ${name} -->\n${body}\n`);
  }
}
