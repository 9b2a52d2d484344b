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

describe("per-client rate limits (the Rate Limiting binding, as workerd runs it)", () => {
  /** Waits for the start of a limiter period, so that no period boundary falls inside a burst. */
  async function startOfPeriod(): Promise<void> {
    while (Date.now() % 10_000 > 3_000) await new Promise((r) => setTimeout(r, 100));
  }
  const from = (ip: string, init: RequestInit = {}) => ({
    ...init,
    headers: { ...init.headers, "CF-Connecting-IP": ip },
  });

  it("answers the 601st read of one client in a period with 429 RATE_LIMITED and Retry-After; other clients go on", async () => {
    await startOfPeriod();
    const statuses: number[] = [];
    for (let i = 0; i < 600; i++)
      statuses.push((await exports.default.fetch("http://edge/v1/hparams", from("198.51.100.7"))).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const limited = await exports.default.fetch("http://edge/v1/hparams", from("198.51.100.7"));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("10");
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
    // another client, and the same client's uploads, are counted apart
    expect((await exports.default.fetch("http://edge/v1/hparams", from("198.51.100.8"))).status).toBe(200);
    const upload = await exports.default.fetch("http://edge/v1/gradients/1/1", from("198.51.100.7", { method: "PUT" }));
    expect(((await upload.json()) as { error: { code: string } }).error.code).toBe("SIGNATURE_MISSING");
  });

  it("counts every upload request, refused or not, and stops the 121st before any check", async () => {
    await startOfPeriod();
    const codes = new Set<string>();
    for (let i = 0; i < 120; i++) {
      const res = await exports.default.fetch("http://edge/v1/gradients/1/1", from("198.51.100.9", { method: "PUT" }));
      codes.add(((await res.json()) as { error: { code: string } }).error.code);
    }
    expect([...codes]).toEqual(["SIGNATURE_MISSING"]);
    const res = await exports.default.fetch("http://edge/v1/gradients/1/1", from("198.51.100.9", { method: "PUT" }));
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
  });

  it("never limits runner routes (they carry the validator's own tokens)", async () => {
    await startOfPeriod();
    for (let i = 0; i < 130; i++) {
      const res = await exports.default.fetch(
        "http://edge/v1/runner/leases",
        from("198.51.100.10", { method: "POST" }),
      );
      expect(res.status).toBe(401);
    }
  });
});
