/**
 * Path and query parameters of the API as zod schemas: the routes parse with them and
 * /openapi.json documents them (schema/api/openapi.ts).
 */
import { decodeAddress, encodeAddress } from "@polkadot/util-crypto";
import { z } from "zod";
import { historyCursorParam } from "./history-cursor.ts";

/** 0, or up to 16 digits without a leading zero: a decimal that stays a safe integer. */
export const DECIMAL_PATTERN = /^(0|[1-9][0-9]{0,15})$/;

/** The most rows one page of a history returns. */
export const MAX_PAGE_LIMIT = 200;

/** A path or query parameter that must be a non-negative decimal integer. */
export function decimalParam(name: string) {
  const message = (input: unknown) => `${name} must be a non-negative decimal integer, got ${JSON.stringify(input)}`;
  return (
    z
      .string({ error: (issue) => message(issue.input) })
      .regex(DECIMAL_PATTERN, { error: (issue) => message(issue.input) })
      // Checked on the text, so the refusal quotes what was sent, not its rounded double.
      .refine((text) => Number.isSafeInteger(Number(text)), {
        error: (issue) => `${name} must be at most ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(issue.input)}`,
      })
      .transform(Number)
      .meta({ description: `${name}: a non-negative decimal integer` })
  );
}

/** An optional `limit` query parameter in [1, max]. */
export function limitParam(fallback: number, max = MAX_PAGE_LIMIT) {
  const range = `limit must be between 1 and ${max}`;
  return decimalParam("limit")
    .pipe(z.number().min(1, range).max(max, range))
    .optional()
    .default(fallback)
    .meta({ description: `rows to return, 1 to ${max} (default ${fallback})` });
}

export const windowPath = z.object({ window: decimalParam("window") });
export const uidPath = z.object({ uid: decimalParam("uid") });
export const windowUidPath = z.object({ window: decimalParam("window"), uid: decimalParam("uid") });
export const leasePath = z.object({ lease: decimalParam("lease") });

/** The longest ss58 address of a 32-byte key (2-byte prefix, 2-byte checksum) is 50 characters. */
export const MAX_SS58_LENGTH = 50;

/** The 32-byte key of an ss58 address (any prefix, checksum checked); undefined if it is not one. */
function ss58Key(text: string): Uint8Array | undefined {
  try {
    const key = decodeAddress(text);
    return key.length === 32 ? key : undefined;
  } catch {
    return undefined;
  }
}

/** An ss58 address under any prefix; its key's address in prefix 42, as the validator writes hotkeys. */
export const hotkeyParam = z
  .string()
  // Bounded and base58 before decoding, so a long or odd path costs no work.
  // abort: zod runs later checks after a failed one unless told not to.
  .max(MAX_SS58_LENGTH, {
    error: `hotkey must be an ss58 address of at most ${MAX_SS58_LENGTH} characters`,
    abort: true,
  })
  .regex(/^[1-9A-HJ-NP-Za-km-z]+$/, {
    error: (issue) => `hotkey ${JSON.stringify(issue.input)} is not base58`,
    abort: true,
  })
  .refine((text) => ss58Key(text) !== undefined, {
    error: (issue) => `hotkey ${JSON.stringify(issue.input)} is not the ss58 address of a 32-byte key`,
  })
  .transform((text) => encodeAddress(ss58Key(text) as Uint8Array, 42))
  .meta({ description: "the hotkey, ss58 under any prefix" });

export const hotkeyPath = z.object({ hotkey: hotkeyParam });

/** A data shard's file name (anything else is NOT_FOUND, not BAD_REQUEST: there is no such file). */
export const dataFilePath = z.object({
  file: z
    .string()
    .regex(/^([a-z]+-\d{5}\.bin|[a-z_]+_\d{6}\.npy)$/, { error: (issue) => `no data file ${String(issue.input)}` })
    .meta({
      description: "a shard of the dataset manifest, e.g. train-00000.bin (bytes) or train_000000.npy (token ids)",
    }),
});

/** `?limit&before` of a uid's history (submissions or scores), newest first. */
export const historyQuery = z.object({
  limit: limitParam(50),
  before: decimalParam("before").optional().meta({ description: "only windows before this one" }),
});

/** `?limit&cursor` of a uid's upload history, paged by cursor (schema/api/history-cursor.ts). */
export const uploadHistoryQuery = z.object({
  limit: limitParam(50),
  cursor: historyCursorParam.optional(),
});

/** `?limit` of the weight sets, newest first. */
export const weightSetsQuery = z.object({ limit: limitParam(20) });
