// /openapi.json is built from the schemas the routes validate with: it must cover every route the
// app serves, and what it documents must be what the routes enforce.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openApiPath } from "../../schema/api/openapi.ts";
import { ERROR_CODES } from "../../schema/errors.ts";
import { API_OPERATIONS, createApp } from "../../workers/app.ts";
import type { ChainFactory } from "../../workers/context.ts";

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>
  >;
  components: { schemas: Record<string, unknown> };
};

const unusedChain = (() => {
  throw new Error("listing routes opens no chain");
}) as unknown as ChainFactory;

async function openApi(): Promise<Doc> {
  const res = await exports.default.fetch("http://edge/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toContain("application/json");
  return JSON.parse(await res.text());
}

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document whose refusals are the catalog's error body", async () => {
    const doc = await openApi();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.schemas.Error).toMatchObject({ required: ["error"] });
    const scores = doc.paths["/v1/miners/{uid}/scores"]?.get;
    expect(scores?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["path:uid", "query:limit", "query:before"]);
    // a public read: rate-limited per client (429), unlike the runner and admin routes
    expect(Object.keys(scores?.responses ?? {})).toEqual(["200", "400", "404", "429", "500"]);
    const upload = doc.paths["/v1/gradients/{window}/{uid}"]?.put;
    expect(upload?.parameters?.filter((p) => p.in === "header").map((p) => p.name)).toEqual([
      "X-Templar-Hotkey",
      "X-Templar-Sha256",
      "X-Templar-Signature",
      "Content-Length",
    ]);
    // Every upload refusal's status is documented on the upload route.
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      if (info.stage === "upload") expect(upload?.responses, code).toHaveProperty(String(info.status));
    }
  });

  it("documents every route the app serves, and no other", async () => {
    const served = createApp({ chain: unusedChain })
      .routes.filter((r) => r.method !== "ALL")
      .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`);
    const doc = await openApi();
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m} ${path}`),
    );
    expect(new Set(served).size).toBeGreaterThan(30);
    expect([...new Set(served)].sort()).toEqual([...documented].sort());
  });

  it("declares each path parameter of each route, and only those", () => {
    for (const op of API_OPERATIONS) {
      const inPath = [...openApiPath(op.path).matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(Object.keys(op.pathParams?.shape ?? {}), op.id).toEqual(inPath);
    }
  });

  it("documents the schemas the routes enforce: what they reject is a 400", async () => {
    const op = API_OPERATIONS.find((o) => o.id === "minerScores");
    expect(op?.query?.safeParse({ limit: "0" }).success).toBe(false);
    const res = await exports.default.fetch("http://edge/v1/miners/2/scores?limit=0");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "BAD_REQUEST", message: "limit must be between 1 and 200" } });

    const window = await exports.default.fetch("http://edge/v1/submissions/01/2");
    expect([window.status, ((await window.json()) as { error: { message: string } }).error.message]).toEqual([
      400,
      'window must be a non-negative decimal integer, got "01"',
    ]);
    const unsigned = await exports.default.fetch("http://edge/v1/gradients/5/2", { method: "PUT", body: "x" });
    expect([unsigned.status, ((await unsigned.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      "SIGNATURE_MISSING",
    ]);
  });
});
