/**
 * `npm run docs:api`: writes docs/API.md from the OpenAPI document a local `wrangler dev` serves
 * at /openapi.json (the routes declare it; schema/api/api-markdown.ts renders it).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { apiMarkdown } from "../../schema/api/api-markdown.ts";
import { startWranglerDev } from "../dev/wrangler-dev.ts";

const persistTo = mkdtempSync(path.join(tmpdir(), "api-doc-"));
const dev = await startWranglerDev({ persistTo });
try {
  const res = await fetch(`${dev.url}/openapi.json`);
  if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
  writeFileSync(
    new URL("../../docs/API.md", import.meta.url),
    apiMarkdown((await res.json()) as Record<string, unknown>),
  );
  console.log("docs/API.md written");
} finally {
  await dev.stop();
  rmSync(persistTo, { recursive: true, force: true });
}
