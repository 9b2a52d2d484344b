/**
 * What a runner sends (docs/SPEC.md, "Runners"): the body that gives a lease back, the results of
 * an evaluation batch or of an outer step, and the headers of an outer step's file upload. The
 * Worker parses with these schemas; the batch-dependent rules (which submissions, which peers)
 * are checked after them, in evaluation/results.ts and model/model-advance.ts.
 */
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "../errors.ts";
import { decimalParam } from "./request-params.ts";

const SHA256_HEX = /^[0-9a-f]{64}$/;
const CATALOG_CODES = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** Body of `POST /v1/runner/leases/{lease}/release` (may be empty): why the runner gives the batch back. */
export const releaseBody = z.object({
  error: z
    .object({
      code: z
        .enum(CATALOG_CODES, { error: "error.code must be a code of the catalog (docs/SPEC.md)" })
        .default("INTERNAL")
        .meta({ description: "a catalog code, INTERNAL when absent" }),
      message: z.string().default(""),
    })
    .optional()
    .meta({ description: "the fault that made the runner give up, recorded with the lease" }),
});

const loss = z.number().meta({ description: "mean next-byte cross-entropy, nats (finite)" });
const duration = z.number().min(0).optional();
const sampleList = z.array(z.number()).min(1).max(4096);

/** Each sample's mean loss in the order of the draws: own and random lists of equal length pairwise. */
export const sampleLosses = z
  .object({
    own_before: sampleList,
    own_after: sampleList,
    random_before: sampleList,
    random_after: sampleList,
    reference_own_after: sampleList
      .optional()
      .meta({ description: "each own sample's loss after the window's reference step (docs/SPEC.md §2.4)" }),
    reference_random_after: sampleList
      .optional()
      .meta({ description: "each random sample's loss after the window's reference step" }),
  })
  .refine(
    (s) =>
      s.own_before.length === s.own_after.length &&
      s.random_before.length === s.random_after.length &&
      (s.reference_own_after === undefined) === (s.reference_random_after === undefined) &&
      (s.reference_own_after === undefined || s.reference_own_after.length === s.own_before.length) &&
      (s.reference_random_after === undefined || s.reference_random_after.length === s.random_before.length),
    {
      error:
        "sample_losses must hold own and random lists (and the reference's, if any) of equal length, before and after",
    },
  );

/** One submission's outcome as a runner reports it: the four losses, or an error with a catalog code. */
export const evaluationResult = z
  .object({
    submission_id: z.int(),
    loss_before_own: loss.optional(),
    loss_after_own: loss.optional(),
    loss_before_random: loss.optional(),
    loss_after_random: loss.optional(),
    sample_losses: sampleLosses.optional(),
    error: z.object({ code: z.enum(CATALOG_CODES), message: z.string() }).optional(),
    decode_ms: duration,
    apply_ms: duration,
    forward_ms: duration,
    restore_ms: duration,
    total_ms: duration,
  })
  .refine(
    (r) =>
      r.error !== undefined ||
      (r.loss_before_own !== undefined &&
        r.loss_after_own !== undefined &&
        r.loss_before_random !== undefined &&
        r.loss_after_random !== undefined),
    { error: "the four losses must be finite numbers, or an error given" },
  )
  .meta({ description: "the four losses (and sample_losses), or an error with a catalog code" });

/** Body of `POST /v1/runner/leases/{lease}/results` for an evaluation batch: one result per submission. */
export const evaluationResultsBody = z.object({
  evaluations: z.array(evaluationResult, { error: 'the body must be {"evaluations": [...]}' }),
});

const fileSha256 = z
  .string()
  .regex(SHA256_HEX)
  .nullable()
  .meta({ description: "SHA-256 of the uploaded file; null when no peer was applied (nothing uploaded)" });

/** Body of `POST /v1/runner/leases/{lease}/results` for an outer step. */
export const advanceResultBody = z
  .object({
    applied_uids: z.array(z.int()).meta({ description: "uids whose gradients went into the aggregate" }),
    heldout_loss_before: z.number().min(0).meta({ description: "held-out loss of θ_S, nats" }),
    heldout_loss_after: z.number().min(0).meta({ description: "held-out loss of θ_{S+1}, nats" }),
    checkpoint_sha256: fileSha256,
    aggregate_sha256: fileSha256,
    total_ms: duration,
  })
  .refine(
    (r) =>
      r.applied_uids.length > 0
        ? r.checkpoint_sha256 !== null && r.aggregate_sha256 !== null
        : r.checkpoint_sha256 === null && r.aggregate_sha256 === null,
    {
      error:
        "checkpoint_sha256 and aggregate_sha256 must be the uploaded files' SHA-256, or null when no peer was applied",
    },
  );

/** Path of `PUT /v1/runner/leases/{lease}/artifacts/{name}`; an unknown name is NOT_FOUND. */
export const advanceArtifactPath = z.object({
  lease: decimalParam("lease"),
  name: z.enum(["checkpoint", "aggregate"], { error: (issue) => `no advance artifact "${String(issue.input)}"` }),
});

/** Headers of an outer step's file upload: R2 checks the bytes against this SHA-256. */
export const advanceArtifactHeaders = z.object({
  "X-Templar-Sha256": z
    .string({ error: "X-Templar-Sha256 must be the file's SHA-256 in 64 lowercase hex digits" })
    .regex(SHA256_HEX, "X-Templar-Sha256 must be the file's SHA-256 in 64 lowercase hex digits"),
});

export type SampleLossesJson = z.infer<typeof sampleLosses>;
export type EvaluationResult = z.infer<typeof evaluationResult>;
export type AdvanceResult = z.infer<typeof advanceResultBody>;
