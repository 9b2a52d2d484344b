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

/** An optional `limit` query parameter in [1, max] (BAD_REQUEST otherwise). */
export function limitParam(value: string | undefined, fallback: number, max: number): number {
  const limit = value === undefined ? fallback : decimalParam(value, "limit");
  if (limit < 1 || limit > max) throw new EdgeError("BAD_REQUEST", `limit must be between 1 and ${max}`);
  return limit;
}

/** An optional decimal query parameter. */
export function optionalDecimalParam(value: string | undefined, name: string): number | undefined {
  return value === undefined ? undefined : decimalParam(value, name);
}
