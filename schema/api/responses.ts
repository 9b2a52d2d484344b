/**
 * The JSON the API answers with, as zod schemas for /openapi.json: the error body of every
 * route and the small documents. The larger documents (window reports, score lines, weights,
 * work orders) are documented by name; their types stay in schema/api/public.ts and runner.ts.
 */
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "../errors.ts";

const CATALOG_CODES = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];
const ms = z.int().meta({ description: "Unix time, ms" });

/** `{"error": {"code", "message", "details"?}}`: what every route answers when it refuses or fails. */
export const errorBody = z.object({
  error: z.object({
    code: z.enum(CATALOG_CODES).meta({ description: "a stable code of docs/SPEC.md's catalog" }),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const errorJson = z.object({ code: z.string(), message: z.string() });

/** A submission with its verdict. */
export const submissionJson = z.object({
  window: z.int(),
  uid: z.int(),
  hotkey: z.string(),
  status: z.enum(["received", "valid", "invalid", "copied"]),
  error: errorJson.nullable(),
  received_at_ms: ms,
  multipart_created_at_ms: ms.nullable(),
  size_bytes: z.int(),
  sha256: z.string(),
  object_key: z.string(),
  validated_at_ms: ms.nullable(),
  format_version: z
    .int()
    .nullable()
    .meta({ description: "the file's gradient format version, once validated (null before, and if invalid)" }),
});

/** A refused upload attempt. */
export const refusalJson = z.object({ window: z.int(), code: z.string(), message: z.string(), received_at_ms: ms });

/** A put window and where now stands against it. */
export const putWindowJson = z.object({
  window: z.int(),
  opens_at_ms: ms,
  closes_at_ms: ms,
  state: z.enum(["pending", "open", "closed"]),
});

export const healthResponse = z.object({ status: z.literal("ok"), profile: z.string(), netuid: z.int() });

/** GET /v1/windows/current. */
export const currentWindowResponse = z.object({
  netuid: z.int(),
  block: z.int(),
  block_at_ms: ms,
  head_stale: z.boolean().meta({
    description:
      "true when the chain did not answer in time and `block` is the head the validator last recorded, or when that head is older than `window.stale_head_blocks` block times: the clock may be behind",
  }),
  window: z.int(),
  blocks_per_window: z.int(),
  put_window: putWindowJson.nullable(),
  next_put_window: z.object({ window: z.int(), opening_block: z.int(), expected_opens_at_ms: ms }),
  checkpoint_window: z.int().meta({ description: "the window whose θ miners train from now" }),
});

/** GET /v1/hotkeys/{hotkey}. */
export const hotkeyResponse = z.object({
  hotkey: z.string().meta({ description: "ss58, prefix 42" }),
  uid: z.int(),
  netuid: z.int(),
});

export const submissionResponse = z.object({ submission: submissionJson });
export const submissionHistoryResponse = z.object({
  submissions: z.array(submissionJson),
  refusals: z.array(refusalJson),
  next_cursor: z.string().nullable().meta({ description: "pass as `cursor` for the next page; null on the last page" }),
});
export const multipartCreatedResponse = z.object({
  upload_id: z.string(),
  part_min_bytes: z.int().meta({ description: "every part but the last has at least this many bytes" }),
  max_parts: z.int(),
  created_at_ms: ms,
});
export const partStoredResponse = z.object({ part_number: z.int(), etag: z.string(), size_bytes: z.int() });
export const heartbeatResponse = z.object({ expires_at_ms: ms });
export const releasedResponse = z.object({ released: z.literal(true) });
export const artifactStoredResponse = z.object({ key: z.string(), size_bytes: z.int() });
export const resultsRecordedResponse = z.union([
  z.object({ recorded: z.int(), duplicate: z.boolean() }).meta({ description: "an evaluation batch" }),
  z.object({ window: z.int(), duplicate: z.boolean() }).meta({ description: "an outer step: the window θ is now for" }),
]);
export const benchPutResponse = z.object({ size: z.int() });

export type ErrorJson = z.infer<typeof errorJson>;
export type SubmissionJson = z.infer<typeof submissionJson>;
export type RefusalJson = z.infer<typeof refusalJson>;
export type PutWindowJson = z.infer<typeof putWindowJson>;
export type MultipartCreatedJson = z.infer<typeof multipartCreatedResponse>;
