/**
 * The claim of an upload request, read from its signed headers (docs/SPEC.md §5.1); what a
 * claim is and how its signature verifies is shared with the miner (schema/upload/upload-claim.ts).
 */
import type { z } from "zod";
import type { multipartCreateHeaders, singleUploadHeaders } from "../../schema/api/upload-requests.ts";
import type { ErrorCode } from "../../schema/errors.ts";
import { parseHotkey, type UploadClaim } from "../../schema/upload/upload-claim.ts";

/** SIGNATURE_INVALID for a malformed signature, BAD_REQUEST for any other malformed claim header. */
export function claimIssueCode(issue: z.core.$ZodIssue): ErrorCode {
  return issue.path[0] === "X-Templar-Signature" ? "SIGNATURE_INVALID" : "BAD_REQUEST";
}

type ClaimHeaders = z.output<typeof singleUploadHeaders> | z.output<typeof multipartCreateHeaders>;

/** The claim of an upload to (netuid, window, uid) from its parsed headers; SIGNATURE_INVALID for a hotkey that is no sr25519 key. */
export function claimOf(headers: ClaimHeaders, at: { netuid: number; window: number; uid: number }): UploadClaim {
  return {
    ...at,
    ...parseHotkey(headers["X-Templar-Hotkey"]),
    sha256: headers["X-Templar-Sha256"],
    size: "Content-Length" in headers ? headers["Content-Length"] : headers["X-Templar-Size"],
    signature: headers["X-Templar-Signature"],
  };
}
