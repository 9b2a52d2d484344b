// docs/API.md is generated from the OpenAPI document the Worker serves: it must match the code.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OPERATIONS } from "../../schema/api/operations.ts";
import { apiMarkdown } from "../../scripts/docs/api-doc.ts";

const apiDoc = readFileSync(path.resolve(import.meta.dirname, "../../docs/API.md"), "utf8");

describe("docs/API.md", () => {
  it("is current (run `npm run docs:api` after changing a route or a schema of schema/api/)", () => {
    expect(apiMarkdown()).toBe(apiDoc);
  });

  it("has a section for every route", () => {
    for (const op of OPERATIONS) expect(apiDoc).toContain(`### \`${op.method.toUpperCase()} ${op.path}\``);
  });
});
