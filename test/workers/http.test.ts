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

  it("answers a data file name that cannot exist, however long, with a coded 404 before any R2 call", async () => {
    for (const name of ["x".repeat(3000), "train_000000.npy.extra", "..%2Fmanifest.json", "train-00000.bin"]) {
      for (const method of ["GET", "HEAD"]) {
        const res = await exports.default.fetch(`http://edge/v1/data/${name}`, { method });
        expect(res.status, `${method} ${name.slice(0, 40)}`).toBe(404);
        if (method === "GET") expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
      }
    }
  });
});
