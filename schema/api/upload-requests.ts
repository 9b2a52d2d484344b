/**
 * What a gradient upload sends (docs/SPEC.md §5): the signed headers of a single upload or of a
 * multipart session, the headers that name an open session, and the completion body.
 */
import { z } from "zod";
import { DECIMAL_PATTERN, decimalParam } from "./request-params.ts";

const required = (name: string) => ({ error: () => `the ${name} header is required` });

const hotkey = z.string(required("X-Templar-Hotkey")).meta({
  description: "the miner's hotkey, ss58 (any prefix)",
  example: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
});
const sha256 = z
  .string(required("X-Templar-Sha256"))
  .regex(/^[0-9a-fA-F]{64}$/, "X-Templar-Sha256 must be 64 hex digits")
  .transform((s) => s.toLowerCase())
  .meta({ description: "SHA-256 of the whole file, 64 hex digits in either case (signed in lowercase)" });
const signature = z
  .string(required("X-Templar-Signature"))
  .regex(/^0x[0-9a-fA-F]{128}$/, "X-Templar-Signature must be 0x and 128 hex digits")
  .transform((s) => s.toLowerCase())
  .meta({
    description:
      "sr25519 signature of `templar-edge/v1/gradient|{netuid}|{window}|{uid}|{sha256}|{size}`, 0x + 128 hex",
  });
const byteCount = (name: string) =>
  z
    .string(required(name))
    .regex(DECIMAL_PATTERN, `${name} must be a decimal byte count`)
    .transform(Number)
    .meta({ description: "the size of the whole file in bytes (the signed size)" });

/** Headers of `PUT /v1/gradients/{window}/{uid}` (the size is the body's Content-Length). */
export const singleUploadHeaders = z.object({
  "X-Templar-Hotkey": hotkey,
  "X-Templar-Sha256": sha256,
  "X-Templar-Signature": signature,
  "Content-Length": byteCount("Content-Length"),
});

/** Headers of `POST /v1/gradients/{window}/{uid}/multipart` (the size is declared up front). */
export const multipartCreateHeaders = z.object({
  "X-Templar-Hotkey": hotkey,
  "X-Templar-Sha256": sha256,
  "X-Templar-Signature": signature,
  "X-Templar-Size": byteCount("X-Templar-Size"),
});

/** The hotkey and signature that opened a multipart session, sent again with each of its requests. */
export const multipartSessionHeaders = z.object({
  "X-Templar-Hotkey": z
    .string(required("X-Templar-Hotkey"))
    .meta({ description: "the hotkey that opened the session" }),
  "X-Templar-Signature": z
    .string(required("X-Templar-Signature"))
    .transform((s) => s.toLowerCase())
    .meta({ description: "the signature that opened the session" }),
});

/** Path of a multipart session (a malformed upload id is MULTIPART_UNKNOWN: no such session). */
export const multipartSessionPath = z.object({
  window: decimalParam("window"),
  uid: decimalParam("uid"),
  uploadId: z
    .string()
    .regex(/^[A-Za-z0-9._~+/=-]{1,512}$/, "malformed upload id")
    .meta({ description: "the upload_id the session was created with" }),
});

/** Path of one part of a multipart session. */
export const multipartPartPath = multipartSessionPath.extend({
  part: decimalParam("part").meta({ description: "the part number, 1 to limits.multipart_max_parts" }),
});

/** Body of `POST …/multipart/{uploadId}/complete`: every stored part, in order, with its ETag. */
export const multipartCompleteBody = z.object({
  parts: z
    .array(
      z.object({
        part_number: z.int().min(1),
        etag: z.string().min(1).meta({ description: "the etag the part's upload returned" }),
      }),
      { error: "parts must be a list of {part_number: integer, etag: string}" },
    )
    .meta({ description: "parts 1…n once each, in order, as uploaded" }),
});
