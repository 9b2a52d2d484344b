/** Parsing of path and query parameters. */
import { EdgeError } from "../../schema/errors.ts";

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** A path or query parameter that must be a non-negative decimal integer (BAD_REQUEST otherwise). */
export function decimalParam(value: string | undefined, name: string): number {
  if (value === undefined || !DECIMAL.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new EdgeError("BAD_REQUEST", `${name} must be a non-negative decimal integer, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}
