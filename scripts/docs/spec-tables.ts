/**
 * The tables of docs/SPEC.md that are generated from code: every error code (schema/errors.ts)
 * and the numbers of each hparams profile (schema/hparams.ts). `npm run docs:spec` rewrites them
 * between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; a test fails when they drift.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { ERROR_CODES, type ErrorStage } from "../../schema/errors.ts";
import { PROFILES } from "../../schema/hparams.ts";
import { withGeneratedRegions } from "./generated-regions.ts";

const STAGE_TITLES: Record<ErrorStage, string> = {
  request: "Any request",
  upload: "Refused while uploading (nothing is stored)",
  verdict: "Verdicts on a stored upload (`GET /v1/submissions/…`)",
  encoder: "Raised by the reference encoder on bad input (miner-side tools, never sent by the validator)",
  evaluation: "A runner's outcome for one submission's evaluation (`GET /v1/evaluations/…`)",
  chain: "The chain's answer to the validator's weights transactions (`GET /v1/weights/…`)",
  server: "The validator's own faults (retry later; never the miner's)",
};

function errorCodes(): string {
  const out: string[] = [];
  for (const stage of Object.keys(STAGE_TITLES) as ErrorStage[]) {
    out.push(`**${STAGE_TITLES[stage]}**`, "", "| code | HTTP | meaning |", "|---|---|---|");
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      if (info.stage === stage) out.push(`| \`${code}\` | ${info.status} | ${info.summary} |`);
    }
    out.push("");
  }
  return out.join("\n").trimEnd();
}

const MiB = 1024 * 1024;
const bytes = (n: number) => (n % MiB === 0 ? `${n / MiB} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`);

function profileTable(rows: [string, (p: (typeof PROFILES)["default"]) => string][]): string {
  const names = Object.keys(PROFILES) as (keyof typeof PROFILES)[];
  const lines = [
    `| hparam | ${names.map((n) => `\`${n}\``).join(" | ")} |`,
    `|---|${names.map(() => "---").join("|")}|`,
  ];
  for (const [label, get] of rows) lines.push(`| ${label} | ${names.map((n) => get(PROFILES[n])).join(" | ")} |`);
  return lines.join("\n");
}

function windowTable(): string {
  return profileTable([
    ["`window.blocks_per_window`", (p) => String(p.window.blocks_per_window)],
    ["`window.block_time_ms` (expected)", (p) => String(p.window.block_time_ms)],
    ["`window.time_window_delta_seconds` (put window)", (p) => String(p.window.time_window_delta_seconds)],
    ["`window.stale_head_blocks` (stale head)", (p) => String(p.window.stale_head_blocks)],
  ]);
}

function compressionTable(): string {
  return profileTable([
    ["`compression.target_chunk`", (p) => String(p.compression.target_chunk)],
    ["`compression.topk_compression`", (p) => String(p.compression.topk_compression)],
    ["`compression.quantization_bins`", (p) => String(p.compression.quantization_bins)],
    ["`compression.quantization_range`", (p) => String(p.compression.quantization_range)],
    ["`compression.use_dct`", (p) => String(p.compression.use_dct)],
    ["`sync.param_sample_offset`", (p) => String(p.sync.param_sample_offset)],
    ["`sync.param_sample_size`", (p) => String(p.sync.param_sample_size)],
  ]);
}

function formatTable(): string {
  return profileTable([["`intake.format_versions` (accepted)", (p) => p.intake.format_versions.join(", ")]]);
}

function trainingTable(): string {
  return profileTable([
    ["`training.inner_steps`", (p) => String(p.training.inner_steps)],
    ["`training.batch_size`", (p) => String(p.training.batch_size)],
    ["`training.momentum_decay` (error feedback)", (p) => String(p.training.momentum_decay)],
    ["`training.outer_learning_rate`", (p) => String(p.training.outer_learning_rate)],
    ["`training.inner_learning_rate` (reference miner's AdamW)", (p) => String(p.training.inner_learning_rate)],
  ]);
}

function limitsTable(): string {
  return profileTable([
    ["`limits.max_header_bytes`", (p) => bytes(p.limits.max_header_bytes)],
    ["`limits.max_gradient_bytes`", (p) => bytes(p.limits.max_gradient_bytes)],
    ["`limits.max_single_upload_bytes`", (p) => bytes(p.limits.max_single_upload_bytes)],
    ["`limits.multipart_min_part_bytes`", (p) => bytes(p.limits.multipart_min_part_bytes)],
    ["`limits.multipart_max_parts`", (p) => String(p.limits.multipart_max_parts)],
  ]);
}

function scoringTable(): string {
  return profileTable([
    ["`evaluation.own_samples` = `random_samples`", (p) => String(p.evaluation.own_samples)],
    ["tokens a sample (`model.seq_len`)", (p) => String(p.model.seq_len)],
    ["`evaluation.eval_lr_factor`", (p) => String(p.evaluation.eval_lr_factor)],
    ["`scoring.evidence_decay` (λ)", (p) => String(p.scoring.evidence_decay)],
    ["`scoring.evidence_z_clip`", (p) => String(p.scoring.evidence_z_clip)],
    ["`scoring.evidence_pay_from`", (p) => String(p.scoring.evidence_pay_from)],
    ["`scoring.evidence_pay_full`", (p) => String(p.scoring.evidence_pay_full)],
    ["`scoring.indicator_z` (BMA only)", (p) => String(p.scoring.indicator_z)],
    ["`scoring.binary_score_ma_alpha` (BMA only)", (p) => String(p.scoring.binary_score_ma_alpha)],
    ["`weights.windows_per_weights`", (p) => String(p.weights.windows_per_weights)],
  ]);
}

/** Every generated region of docs/SPEC.md, by name. */
export function specTables(): Record<string, string> {
  return {
    "error-codes": errorCodes(),
    window: windowTable(),
    compression: compressionTable(),
    format: formatTable(),
    training: trainingTable(),
    limits: limitsTable(),
    scoring: scoringTable(),
  };
}

/** `text` with every generated region replaced by its current content. */
export function withSpecTables(text: string): string {
  return withGeneratedRegions(text, specTables(), "docs/SPEC.md");
}

if (import.meta.main) {
  const path = new URL("../../docs/SPEC.md", import.meta.url);
  writeFileSync(path, withSpecTables(readFileSync(path, "utf8")));
  console.log("docs/SPEC.md: generated tables rewritten");
}
