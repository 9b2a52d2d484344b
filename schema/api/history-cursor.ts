/**
 * The cursor of a uid's upload history (`/v1/miners/{uid}/submissions`). The history is one
 * sequence, newest window first; within a window the submission comes before the refused
 * attempts, newest refusal first. A cursor names the last entry of a page, so the next page
 * starts right after it whatever was written since: `{window}.{0|1}.{row id}` (0 a
 * submission, 1 a refusal). Clients treat it as opaque.
 */
import { z } from "zod";

/** Where a page ended: the last entry's window, kind and row id. */
export interface HistoryCursor {
  readonly window: number;
  readonly kind: "submission" | "refusal";
  readonly id: number;
}

const PATTERN = /^(\d{1,16})\.([01])\.(\d{1,16})$/;

/** The cursor's text form, given to clients as `next_cursor`. */
export function formatHistoryCursor(c: HistoryCursor): string {
  return `${c.window}.${c.kind === "submission" ? 0 : 1}.${c.id}`;
}

const refused = (issue: { input: unknown }) =>
  `cursor must be a next_cursor of an earlier page, got ${JSON.stringify(issue.input)}`;

/** `?cursor`: a `next_cursor` of an earlier page, checked before any storage call. */
export const historyCursorParam = z
  .string()
  .max(40, { error: refused })
  .regex(PATTERN, { error: refused })
  .refine((text) => text.split(".").every((n) => Number.isSafeInteger(Number(n))), { error: refused })
  .transform((text): HistoryCursor => {
    const [window, kind, id] = text.split(".").map(Number) as [number, number, number];
    return { window, kind: kind === 0 ? "submission" : "refusal", id };
  })
  .meta({ description: "the `next_cursor` of the previous page; absent for the first page" });
