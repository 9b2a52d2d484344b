// docs/API.md is generated from the OpenAPI document the Worker serves: it must match the code.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import apiDoc from "../../docs/API.md?raw";
import { apiMarkdown } from "../../schema/api/api-markdown.ts";
import { openApiPath } from "../../schema/api/openapi.ts";
import { API_OPERATIONS } from "../../workers/app.ts";

describe("docs/API.md", () => {
  it("is current (run `npm run docs:api` after changing a route or a schema of schema/api/)", async () => {
    const doc = (await (await exports.default.fetch("http://edge/openapi.json")).json()) as Record<string, unknown>;
    expect(apiMarkdown(doc)).toBe(apiDoc);
  });

  it("has a section for every route", () => {
    for (const op of API_OPERATIONS)
      expect(apiDoc).toContain(`### \`${op.method.toUpperCase()} ${openApiPath(op.path)}\``);
  });
});
