/**
 * What a profile's model costs the validator, computed from its manifest and hparams alone (no
 * weights are built, so it works for the 72B shape): checkpoint bytes, a gradient file's exact
 * size against the intake limits, how it must be uploaded, and what copy detection reads and
 * compares per window.
 */
import { performance } from "node:perf_hooks";
import { modelManifest } from "../../gpu-runner/model/family.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { carriesParamSample, gradientFileSize, type MetadataToWrite } from "../../schema/codec/encode.ts";
import { LATEST_FORMAT_VERSION } from "../../schema/codec/format-version.ts";
import { indexBytesPerChunk } from "../../schema/codec/index-coding.ts";
import { fingerprintSample } from "../../schema/copies/fingerprint-sample.ts";
import type { Hparams } from "../../schema/hparams.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";

/** Submissions per window the copy-detection figures are given for (Templar evaluates 20 uids a window; a subnet has 256). */
export const WINDOW_SUBMISSIONS = [20, 256] as const;

export interface ProfileSizes {
  readonly profile: string;
  readonly model: string;
  readonly family: string;
  readonly parameters: number;
  readonly tensors: number;
  readonly checkpoint: { readonly fp32_bytes: number; readonly bf16_bytes: number };
  readonly gradient: {
    readonly chunks: number;
    /** Data bytes per chunk of the chunked (2-D) parameters: indices + codes, in the latest format version. */
    readonly bytes_per_2d_chunk: number;
    /** The largest file of any format version the validator accepts (version 1's): what the limits must hold. */
    readonly file_bytes: number;
    /** The file a miner writes in the latest version. */
    readonly latest_file_bytes: number;
    readonly header_bytes: number;
    readonly max_gradient_bytes: number;
    readonly max_header_bytes: number;
    readonly within_limits: boolean;
    /** "single" PUT, or multipart with this many parts at the minimum part size. */
    readonly upload: "single" | "multipart";
    readonly multipart_parts: number;
    /** Whether that many parts is within limits.multipart_max_parts. */
    readonly parts_within_limit: boolean;
  };
  readonly copy_detection: {
    readonly fingerprint_chunks: number;
    /** One ranged R2 read per sampled chunk, each of idx bytes per chunk. */
    readonly ranged_reads_per_submission: number;
    readonly bytes_read_per_submission: number;
    /** Index lookups of a window's pairwise overlaps (pairs × sampled chunks × k), by submissions. */
    readonly pair_index_steps: Readonly<Record<string, number>>;
    /** Measured here: drawing the window's chunk sample over every chunk of the model. */
    readonly sample_ms: number;
  };
  /** Bytes the Worker streams through validation per submission (the whole file, once). */
  readonly validation_bytes_per_submission: number;
}

/** Metadata as a miner writes it, with the longest numbers a real file carries (the header size depends on them). */
function typicalMetadata(hparams: Hparams, layouts: ReturnType<typeof gradientLayout>): MetadataToWrite {
  const param_sample: Record<string, number[]> = {};
  for (const l of layouts) {
    if (carriesParamSample(l, hparams.sync))
      param_sample[l.name] = Array(hparams.sync.param_sample_size).fill(Math.fround(-0.0123456789));
  }
  return {
    netuid: 65_535,
    window: 99_999_999,
    uid: 65_535,
    hotkey: "5".padEnd(48, "G"),
    base_window: 99_999_999,
    sample_digest: "f".repeat(32),
    sample_count: 999_999,
    compression: hparams.compression,
    param_sample,
  };
}

/** Every figure of {@link ProfileSizes} for one profile. */
export function profileSizes(hparams: Hparams): ProfileSizes {
  const manifest = modelManifest(hparams.model);
  const { total } = parameterSlots(manifest);
  const layouts = gradientLayout(manifest, hparams.compression);
  const chunks = layouts.reduce((n, l) => n + l.chunks, 0);
  const chunked = layouts.filter((l) => l.shape.length === 2);
  // Limits must hold the largest file of any version the validator accepts.
  const { fileBytes, headerBytes } = hparams.intake.format_versions
    .map((v) => gradientFileSize(layouts, typicalMetadata(hparams, layouts), v))
    .reduce((a, b) => (b.fileBytes > a.fileBytes ? b : a));
  const limits = hparams.limits;
  const upload = fileBytes > limits.max_single_upload_bytes ? "multipart" : "single";
  const parts = upload === "single" ? 1 : Math.ceil(fileBytes / limits.multipart_min_part_bytes);
  const copy = hparams.copy;
  const started = performance.now();
  fingerprintSample(`0x${"ab".repeat(32)}`, layouts, copy);
  const sampleMs = performance.now() - started;
  const sampled = chunked[0];
  const idxBytes = sampled ? indexBytesPerChunk(sampled, LATEST_FORMAT_VERSION) : 0;
  const k = sampled?.k ?? 0;
  const steps = (n: number) => ((n * (n - 1)) / 2) * copy.fingerprint_chunks * k;
  return {
    profile: hparams.profile,
    model: manifest.model,
    family: hparams.model.family,
    parameters: total,
    tensors: manifest.parameters.length,
    checkpoint: { fp32_bytes: total * 4, bf16_bytes: total * 2 },
    gradient: {
      chunks,
      bytes_per_2d_chunk: sampled ? idxBytes + sampled.codeBytesPerChunk : 0,
      file_bytes: fileBytes,
      latest_file_bytes: gradientFileSize(layouts, typicalMetadata(hparams, layouts), LATEST_FORMAT_VERSION).fileBytes,
      header_bytes: headerBytes,
      max_gradient_bytes: limits.max_gradient_bytes,
      max_header_bytes: limits.max_header_bytes,
      within_limits: fileBytes <= limits.max_gradient_bytes && headerBytes <= limits.max_header_bytes,
      upload,
      multipart_parts: parts,
      parts_within_limit: parts <= limits.multipart_max_parts,
    },
    copy_detection: {
      fingerprint_chunks: copy.fingerprint_chunks,
      ranged_reads_per_submission: copy.fingerprint_chunks,
      bytes_read_per_submission: copy.fingerprint_chunks * idxBytes,
      pair_index_steps: Object.fromEntries(WINDOW_SUBMISSIONS.map((n) => [String(n), steps(n)])),
      sample_ms: sampleMs,
    },
    validation_bytes_per_submission: fileBytes,
  };
}
