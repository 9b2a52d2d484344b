/**
 * Path and query parameters of the API as zod schemas: the routes parse with them and
 * /openapi.json documents them (schema/api/openapi.ts).
 */
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
