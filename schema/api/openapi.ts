/**
 * The OpenAPI 3.1 document of the Worker, assembled from the operations its routes declare
 * beside their handlers (workers/routes/): the zod schemas the routes validate with become the
 * parameters, bodies and responses; every refusal is the error body with its catalog status.
 */
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "../errors.ts";
import { errorBody } from "./responses.ts";

export type HttpMethod = "get" | "post" | "put" | "delete";
export type Tag = "validator" | "uploads" | "results" | "artifacts" | "runner" | "admin" | "dashboard" | "benchmark";

/** What a route answers with on success: a JSON schema, a JSON document named by its type, bytes, HTML or nothing. */
export type Answer =
  | { readonly status: number; readonly description: string; readonly json: z.ZodType }
  | { readonly status: number; readonly description: string; readonly jsonType: string }
  | { readonly status: number; readonly description: string; readonly content: "binary" | "html" | "none" };

/** One route as its declaration states it: what it takes, answers and refuses. */
export interface Operation {
  readonly id: string;
  readonly method: HttpMethod;
  /** Hono's form, which routes with it: `/v1/gradients/:window/:uid`, `/v1/windows/:window{[0-9]+}`. */
  readonly path: string;
  readonly tag: Tag;
  readonly summary: string;
  readonly description?: string;
  /** Who may call it: anyone, a runner's bearer token, the admin token; uploads carry a signature in headers. */
  readonly auth?: "runner" | "admin";
  readonly pathParams?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly headers?: z.ZodObject;
  /** A JSON body (its schema, or the schemas one of which applies), or raw bytes. */
  readonly body?: z.ZodType | readonly z.ZodType[] | "binary";
  readonly answers: readonly Answer[];
  /** The catalog codes it may answer with besides the ones of every request (BAD_REQUEST, NOT_FOUND, INTERNAL). */
  readonly errors?: readonly ErrorCode[];
  /** A status other than the catalog's for one of its codes, where the route means a miss by it (a lookup's 404). */
  readonly statuses?: Partial<Record<ErrorCode, number>>;
}

/** Codes every request may answer with. */
export const REQUEST_ERRORS: readonly ErrorCode[] = ["BAD_REQUEST", "NOT_FOUND", "INTERNAL"];

/** A JSON answer with its schema. */
export const jsonAnswer = (status: number, description: string, schema: z.ZodType): Answer => ({
  status,
  description,
  json: schema,
});
/** A JSON answer documented by the name of its type. */
export const typedAnswer = (status: number, description: string, jsonType: string): Answer => ({
  status,
  description,
  jsonType,
});
/** A 200 with bytes. */
export const bytesAnswer = (description: string): Answer => ({ status: 200, description, content: "binary" });

/** `/v1/windows/:window{[0-9]+}` → `/v1/windows/{window}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");
}

type JsonSchema = Record<string, unknown>;

const TAGS: Record<Tag, string> = {
  validator: "The validator and its window clock",
  uploads: "Gradient uploads (signed by the miner's hotkey) and downloads",
  results: "Verdicts, evaluations, scores and weights",
  artifacts: "Model, dataset, checkpoints and aggregates (ETags)",
  runner: "The runner API: a runner's bearer token on every route",
  admin: "Operator actions: the admin token on every route",
  dashboard: "Server-rendered HTML pages",
  benchmark: "Benchmark baseline, only with BENCHMARK_ROUTES=on",
};

/** A zod schema as JSON Schema: the input side of a request, the output side of a response. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    // z.int() states the safe-integer range on every integer: true of every JSON number we send, so noise.
    override: ({ jsonSchema: s }) => {
      if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
      if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
    },
  }) as JsonSchema;
  return rest;
}

function parameters(op: Operation): JsonSchema[] {
  const out: JsonSchema[] = [];
  const groups = [
    ["path", op.pathParams],
    ["query", op.query],
    ["header", op.headers],
  ] as const;
  for (const [where, schema] of groups) {
    if (!schema) continue;
    const object = jsonSchema(schema, "input") as { properties: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(object.properties)) {
      const { description, ...rest } = property;
      out.push({
        name,
        in: where,
        required: where === "path" || (object.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  return out;
}

function requestBody(op: Operation): JsonSchema | undefined {
  if (!op.body) return undefined;
  if (op.body === "binary")
    return {
      required: true,
      content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
    };
  const bodies = Array.isArray(op.body) ? op.body : [op.body as z.ZodType];
  const schemas = bodies.map((b) => jsonSchema(b, "input"));
  return { content: { "application/json": { schema: schemas.length === 1 ? schemas[0] : { oneOf: schemas } } } };
}

function answer(a: Answer): JsonSchema {
  if ("json" in a)
    return { description: a.description, content: { "application/json": { schema: jsonSchema(a.json, "output") } } };
  if ("jsonType" in a)
    return {
      description: a.description,
      content: { "application/json": { schema: { type: "object", description: a.jsonType } } },
    };
  if (a.content === "binary")
    return {
      description: a.description,
      content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
    };
  if (a.content === "html")
    return { description: a.description, content: { "text/html": { schema: { type: "string" } } } };
  return { description: a.description };
}

/** The catalog codes an operation may answer with, by HTTP status. */
export function errorStatuses(op: Operation): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...REQUEST_ERRORS, ...(op.errors ?? [])])) {
    const status = op.statuses?.[code] ?? ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

function responses(op: Operation): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const a of op.answers) out[String(a.status)] = answer(a);
  for (const [status, codes] of errorStatuses(op)) {
    out[String(status)] = {
      description: codes.join(", "),
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return out;
}

function operation(op: Operation): JsonSchema {
  const params = parameters(op);
  const body = requestBody(op);
  return {
    operationId: op.id,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.auth ? { security: [{ [`${op.auth}Token`]: [] }] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: responses(op),
  };
}

/** The OpenAPI 3.1 document of these operations (every route the Worker serves). */
export function openApiDocument(operations: readonly Operation[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of operations) {
    const path = openApiPath(op.path);
    paths[path] ??= {};
    (paths[path] as Record<string, JsonSchema>)[op.method] = operation(op);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "templar-edge validator",
      version: "1",
      description:
        "The public, upload, runner and admin routes of the templar-edge Worker. Every refusal is " +
        '`{"error": {"code", "message"}}` with a stable code of docs/SPEC.md\'s catalog and its HTTP status.',
    },
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: { Error: jsonSchema(errorBody, "output") },
      securitySchemes: {
        runnerToken: { type: "http", scheme: "bearer", description: "a runner token (`npm run runner:token`)" },
        adminToken: { type: "http", scheme: "bearer", description: "the ADMIN_TOKEN secret" },
      },
    },
  };
}
