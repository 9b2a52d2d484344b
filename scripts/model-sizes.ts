/**
 * `npm run model-sizes [-- --profile P] [--json]`: what each profile's model costs the validator
 * (checkpoint and gradient file bytes against the intake limits, upload mode, copy-detection
 * reads and work), computed from manifests alone, so the 72B shape is sized without its weights.
 */
import { parseArgs } from "node:util";
import { getHparams, PROFILES } from "../schema/hparams.ts";
import { format, table } from "./bench/measure.ts";
import { profileSizes, WINDOW_SUBMISSIONS } from "./sizing/profile-sizes.ts";

const { values: args } = parseArgs({
  options: { profile: { type: "string", multiple: true }, json: { type: "boolean", default: false } },
});
const names = args.profile ?? Object.keys(PROFILES);
const sizes = names.map((n) => profileSizes(getHparams(n)));
if (args.json) {
  console.log(JSON.stringify(sizes, null, 2));
} else {
  const mb = (b: number) => `${format(b / 1e6)} MB`;
  console.log(
    table(
      [
        "profile",
        "model",
        "parameters",
        "θ fp32",
        "θ bf16",
        "chunks",
        "B/chunk (v2)",
        "gradient file v2",
        "v1 (limits hold it)",
        "header",
        "limit",
        "upload",
      ],
      sizes.map((s) => [
        s.profile,
        s.model,
        s.parameters.toLocaleString("en-US"),
        mb(s.checkpoint.fp32_bytes),
        mb(s.checkpoint.bf16_bytes),
        s.gradient.chunks.toLocaleString("en-US"),
        s.gradient.bytes_per_2d_chunk,
        mb(s.gradient.latest_file_bytes),
        mb(s.gradient.file_bytes),
        `${format(s.gradient.header_bytes / 1024)} KiB`,
        `${s.gradient.within_limits ? "ok" : "OVER"} (${mb(s.gradient.max_gradient_bytes)})`,
        s.gradient.upload === "single"
          ? "single PUT"
          : `${s.gradient.multipart_parts} parts${s.gradient.parts_within_limit ? "" : " (OVER the part limit)"}`,
      ]),
    ),
  );
  console.log();
  console.log(
    table(
      [
        "profile",
        "fingerprint reads",
        "bytes read",
        ...WINDOW_SUBMISSIONS.map((n) => `overlap lookups, ${n} submissions`),
        "sample draw (ms, measured)",
        "validation streams",
      ],
      sizes.map((s) => [
        s.profile,
        s.copy_detection.ranged_reads_per_submission,
        s.copy_detection.bytes_read_per_submission,
        ...WINDOW_SUBMISSIONS.map((n) => (s.copy_detection.pair_index_steps[String(n)] ?? 0).toLocaleString("en-US")),
        format(s.copy_detection.sample_ms),
        mb(s.validation_bytes_per_submission),
      ]),
    ),
  );
}
