/**
 * Submission intake: stored uploads and their verdicts, refused attempts, multipart sessions,
 * and copy detection.
 */
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const SUBMISSION_STATUSES = [
  "received", // stored; waiting for the validation consumer
  "valid", // passed validation; evaluated unless copy detection flags it
  "invalid", // failed validation or the sha256 check; errorCode says why
  "copied", // flagged as the later receipt of a copied pair
] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

/** One stored gradient per (window, uid): a second upload is refused and never overwrites it. */
export const submissions = sqliteTable(
  "submissions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    window: integer("window").notNull(),
    uid: integer("uid").notNull(),
    hotkey: text("hotkey").notNull(),
    objectKey: text("object_key").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    /** Hex sha256 of the whole file, as signed. */
    sha256: text("sha256").notNull(),
    /** Hex sha256 over the tensor data only (not the metadata): equal tensors, equal digest. */
    tensorDigest: text("tensor_digest"),
    /** Worker clock when the upload completed (single: end of body; multipart: completion). */
    receivedAtMs: integer("received_at_ms").notNull(),
    /** Multipart only: when the session was created (must also fall in the put window). */
    multipartCreatedAtMs: integer("multipart_created_at_ms"),
    /** 0x-prefixed hex sr25519 signature over the signed message (docs/SPEC.md). */
    signature: text("signature").notNull(),
    status: text("status", { enum: SUBMISSION_STATUSES }).notNull().default("received"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    /** From the file's metadata once validated. */
    baseWindow: integer("base_window"),
    sampleDigest: text("sample_digest"),
    /** JSON: the param_sample used by the sync check. */
    paramSample: text("param_sample", { mode: "json" }).$type<Record<string, number[]>>(),
    /** The file's gradient format version (how its chunks' indices are coded). */
    formatVersion: integer("format_version"),
    /** JSON: tensor name → [begin, end) in the file, for ranged reads of single chunks. */
    tensorRanges: text("tensor_ranges", { mode: "json" }).$type<Record<string, [number, number]>>(),
    validatedAtMs: integer("validated_at_ms"),
  },
  (t) => [
    uniqueIndex("submissions_window_uid").on(t.window, t.uid),
    uniqueIndex("submissions_signature").on(t.signature),
    index("submissions_window_status").on(t.window, t.status),
    index("submissions_tensor_digest").on(t.tensorDigest),
    index("submissions_uid_window").on(t.uid, t.window),
  ],
);

/** Every refused upload attempt, with its code: early, late, bad signature, oversize… */
export const uploadRefusals = sqliteTable(
  "upload_refusals",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    window: integer("window").notNull(),
    /** The uid named in the request path, written only when the signing hotkey holds that uid. */
    uid: integer("uid").notNull(),
    hotkey: text("hotkey"),
    code: text("code").notNull(),
    message: text("message").notNull(),
    receivedAtMs: integer("received_at_ms").notNull(),
  },
  (t) => [index("upload_refusals_window").on(t.window, t.code), index("upload_refusals_uid").on(t.uid, t.window)],
);

/**
 * Refusals that are not written under a uid, counted per window and code: those of a hotkey that
 * does not own the uid it named (unregistered, or another uid's), whose rows would let anyone fill
 * a miner's public record, and an owner's past MAX_REFUSAL_ROWS_PER_UID_WINDOW in one window.
 */
export const uploadRefusalCounts = sqliteTable(
  "upload_refusal_counts",
  {
    window: integer("window").notNull(),
    code: text("code").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.window, t.code] })],
);

/** Refusal rows one uid gets in one window; later ones are only counted (uploadRefusalCounts). */
export const MAX_REFUSAL_ROWS_PER_UID_WINDOW = 16;

export const MULTIPART_STATES = ["open", "completed", "aborted"] as const;

/** A multipart upload session, signed like a single upload when created. */
export const multipartUploads = sqliteTable(
  "multipart_uploads",
  {
    uploadId: text("upload_id").primaryKey(),
    window: integer("window").notNull(),
    uid: integer("uid").notNull(),
    hotkey: text("hotkey").notNull(),
    objectKey: text("object_key").notNull(),
    sha256: text("sha256").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    signature: text("signature").notNull(),
    state: text("state", { enum: MULTIPART_STATES }).notNull().default("open"),
    createdAtMs: integer("created_at_ms").notNull(),
    completedAtMs: integer("completed_at_ms"),
    abortedAtMs: integer("aborted_at_ms"),
  },
  (t) => [
    index("multipart_uploads_window_uid").on(t.window, t.uid),
    uniqueIndex("multipart_uploads_signature").on(t.signature),
  ],
);

/** Each part received for a multipart session (a re-sent part number replaces the earlier one). */
export const multipartParts = sqliteTable(
  "multipart_parts",
  {
    uploadId: text("upload_id")
      .notNull()
      .references(() => multipartUploads.uploadId),
    partNumber: integer("part_number").notNull(),
    etag: text("etag").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    receivedAtMs: integer("received_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.uploadId, t.partNumber] })],
);

/** The index sets of the chunks sampled by the window's seed block, per submission. */
export const copyFingerprints = sqliteTable("copy_fingerprints", {
  submissionId: integer("submission_id")
    .primaryKey()
    .references(() => submissions.id),
  window: integer("window").notNull(),
  uid: integer("uid").notNull(),
  /** Hex hash of the seed block the chunk sample came from. */
  seedBlockHash: text("seed_block_hash").notNull(),
  /** JSON: parameter → { k, chunks: { chunk id → indices } }. */
  sample: text("sample", { mode: "json" })
    .$type<Record<string, { k: number; chunks: Record<number, number[]> }>>()
    .notNull(),
  createdAtMs: integer("created_at_ms").notNull(),
});

export const COPY_KINDS = ["exact", "near"] as const;
export const COPY_GRADES = ["high", "max", "mega"] as const;
export type CopyGrade = (typeof COPY_GRADES)[number];

/** A flagged pair: the later receipt is the offender. */
export const copyFlags = sqliteTable(
  "copy_flags",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    window: integer("window").notNull(),
    offenderSubmissionId: integer("offender_submission_id")
      .notNull()
      .references(() => submissions.id),
    offenderUid: integer("offender_uid").notNull(),
    /** The earlier receipt it copied; for a replay, a submission of an earlier window. */
    originalSubmissionId: integer("original_submission_id")
      .notNull()
      .references(() => submissions.id),
    originalUid: integer("original_uid").notNull(),
    originalWindow: integer("original_window").notNull(),
    kind: text("kind", { enum: COPY_KINDS }).notNull(),
    /** Weighted top-k index overlap (1 for exact copies). */
    overlap: real("overlap").notNull(),
    grade: text("grade", { enum: COPY_GRADES }).notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    index("copy_flags_window").on(t.window),
    uniqueIndex("copy_flags_pair").on(t.offenderSubmissionId, t.originalSubmissionId),
  ],
);
