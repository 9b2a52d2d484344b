/** Parsing of single path and query parameters with the schemas of schema/api/request-params.ts. */
import { decimalParam as decimalSchema, limitParam as limitSchema } from "../../schema/api/request-params.ts";
import { parseRequest } from "./validate.ts";

/** A path or query parameter that must be a non-negative decimal integer (BAD_REQUEST otherwise). */
export function decimalParam(value: string | undefined, name: string): number {
  return parseRequest(decimalSchema(name), value);
}

/** An optional `limit` query parameter in [1, max] (BAD_REQUEST otherwise). */
export function limitParam(value: string | undefined, fallback: number, max?: number): number {
  return parseRequest(limitSchema(fallback, max), value);
}

/** An optional decimal query parameter. */
export function optionalDecimalParam(value: string | undefined, name: string): number | undefined {
  return parseRequest(decimalSchema(name).optional(), value);
}
