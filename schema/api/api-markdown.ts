/**
 * docs/API.md as Markdown, rendered from the OpenAPI 3.1 document the Worker serves at
 * /openapi.json (schema/api/openapi.ts): `npm run docs:api` writes it, and a workerd test fails
 * when it is stale.
 */
import { ERROR_CODES } from "../errors.ts";

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  description?: string;
  $ref?: string;
};
type Parameter = { name: string; in: string; required: boolean; description?: string; schema: Schema };
type Media = Record<string, { schema: Schema }>;
type Operation = {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Media };
  responses: Record<string, { description: string; content?: Media }>;
};
type Document = {
  info: { description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
};

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

/** A one-line summary of a JSON Schema's type and constraints. */
function typeText(s: Schema): string {
  if (s.$ref) return s.$ref.split("/").at(-1) as string;
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.map(typeText).join(" or ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum)
    return s.enum.length > 8 ? `one of ${s.enum.length} codes` : s.enum.map((v) => JSON.stringify(v)).join(" or ");
  if (s.type === "array") {
    const size =
      s.minItems !== undefined || s.maxItems !== undefined ? ` (${s.minItems ?? 0}…${s.maxItems ?? "n"})` : "";
    return `${s.items ? typeText(s.items) : "any"}[]${size}`;
  }
  const limits = [
    s.pattern && `\`${s.pattern}\``,
    s.format,
    s.minimum !== undefined && `≥ ${s.minimum}`,
    s.maximum !== undefined && `≤ ${s.maximum}`,
    s.minLength !== undefined && `length ≥ ${s.minLength}`,
    s.default !== undefined && `default ${JSON.stringify(s.default)}`,
  ].filter(Boolean);
  const type = Array.isArray(s.type) ? s.type.join(" or ") : (s.type ?? "any");
  return limits.length ? `${type}, ${limits.join(", ")}` : type;
}

/** The fields of an object schema, nested ones as `a.b` and `a[].b`. */
function fieldRows(s: Schema, prefix = "", depth = 0): string[] {
  const rows: string[] = [];
  for (const [name, field] of Object.entries(s.properties ?? {})) {
    const path = `${prefix}${name}`;
    const required = (s.required ?? []).includes(name) ? "yes" : "no";
    rows.push(`| \`${path}\` | ${cell(typeText(field))} | ${required} | ${cell(field.description ?? "")} |`);
    if (depth < 3) {
      const nullable = field.anyOf?.find((a) => a.type === "object");
      if (field.type === "object" || nullable) rows.push(...fieldRows(nullable ?? field, `${path}.`, depth + 1));
      if (field.type === "array" && field.items?.type === "object")
        rows.push(...fieldRows(field.items, `${path}[].`, depth + 1));
    }
  }
  return rows;
}

function fieldsTable(s: Schema): string[] {
  const rows = fieldRows(s);
  if (!rows.length) return [s.description ? `A JSON document: ${s.description}.` : `\`${typeText(s)}\``, ""];
  return ["| field | type | required | description |", "|---|---|---|---|", ...rows, ""];
}

function bodyText(content: Media | undefined): string[] {
  if (!content) return [];
  const [type, { schema }] = Object.entries(content)[0] as [string, { schema: Schema }];
  if (type !== "application/json") return [`\`${type}\``, ""];
  const choices = schema.oneOf ?? [schema];
  return choices.flatMap((c, i) => [...(choices.length > 1 ? [`One of (${i + 1}):`, ""] : []), ...fieldsTable(c)]);
}

const AUTH: Record<string, string> = {
  runnerToken: "`Authorization: Bearer <runner token>`",
  adminToken: "`Authorization: Bearer <ADMIN_TOKEN>`",
};

function operationText(method: string, path: string, op: Operation): string[] {
  const out = [`### \`${method.toUpperCase()} ${path}\``, "", `${op.summary}.`, ""];
  if (op.description) out.push(op.description, "");
  const auth = op.security?.flatMap((s) => Object.keys(s)).map((k) => AUTH[k]);
  if (auth?.length) out.push(`Auth: ${auth.join(", ")}.`, "");
  if (op.parameters?.length) {
    out.push("| parameter | in | required | type | description |", "|---|---|---|---|---|");
    for (const p of op.parameters)
      out.push(
        `| \`${p.name}\` | ${p.in} | ${p.required ? "yes" : "no"} | ${cell(typeText(p.schema))} | ${cell(p.description ?? "")} |`,
      );
    out.push("");
  }
  if (op.requestBody) out.push("**Request body**", "", ...bodyText(op.requestBody.content));
  out.push("**Responses**", "");
  const errors: string[] = [];
  for (const [status, r] of Object.entries(op.responses)) {
    if (r.content?.["application/json"]?.schema.$ref) errors.push(`\`${status}\` ${r.description}`);
    else out.push(`- \`${status}\`: ${r.description}`);
  }
  out.push(`- errors: ${errors.join("; ")}`, "");
  for (const [status, r] of Object.entries(op.responses)) {
    const schema = r.content?.["application/json"]?.schema;
    if (schema && !schema.$ref && schema.properties) out.push(`\`${status}\` body:`, "", ...fieldsTable(schema));
  }
  return out;
}

function errorTable(): string[] {
  const byStatus = new Map<number, string[]>();
  for (const [code, info] of Object.entries(ERROR_CODES))
    byStatus.set(info.status, [...(byStatus.get(info.status) ?? []), `\`${code}\``]);
  return [
    "| HTTP | codes |",
    "|---|---|",
    ...[...byStatus].sort(([a], [b]) => a - b).map(([status, codes]) => `| ${status} | ${codes.join(", ")} |`),
  ];
}

/** The whole of docs/API.md, from the OpenAPI document the Worker serves. */
export function apiMarkdown(openApi: Record<string, unknown>): string {
  const doc = openApi as unknown as Document;
  const out = [
    "# The templar-edge API",
    "",
    "<!-- Generated by `npm run docs:api` from the document the Worker serves at GET /openapi.json. Do not edit by hand. -->",
    "",
    doc.info.description,
    "",
    "The machine-readable form is `GET /openapi.json` (OpenAPI 3.1). Path and query parameters are decimal strings",
    "where they are numbers; times are Unix milliseconds. Error codes and their meaning: docs/SPEC.md.",
    "",
    "## Errors",
    "",
    '```json\n{"error": {"code": "BAD_REQUEST", "message": "limit must be between 1 and 200"}}\n```',
    "",
    ...errorTable(),
    "",
  ];
  for (const tag of doc.tags) {
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, op]) => op.tags.includes(tag.name))
        .map(([method, op]) => [method, path, op] as const),
    );
    if (!ops.length) continue;
    out.push(`## ${tag.name}`, "", `${tag.description}.`, "");
    for (const [method, path, op] of ops) out.push(...operationText(method, path, op));
  }
  return `${out.join("\n").trimEnd()}\n`;
}
