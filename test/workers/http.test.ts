import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getHparams } from "../../schema/hparams.ts";

describe("Worker HTTP surface", () => {
  it("answers health with the profile and netuid of wrangler.toml", async () => {
    const res = await exports.default.fetch("http://edge/v1/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", profile: "local", netuid: 2 });
  });

  it("serves the active hparams profile to miners", async () => {
    const res = await exports.default.fetch("http://edge/v1/hparams");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(getHparams("local"))));
  });

  it("answers an unknown route with a coded 404", async () => {
    const res = await exports.default.fetch("http://edge/v1/nope", { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "NOT_FOUND", message: "no route POST /v1/nope" } });
  });
});
