// The client retry rule (schema/api/retry.ts) against real failures: a refused connection from
// Node's fetch, a server that answers 503 and then 200, a verdict (4xx) that is never retried, and
// the put-window deadline that stops retrying.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { backoffDelayMs, DEFAULT_BACKOFF, isTransient, withRetry } from "../../schema/api/retry.ts";
import { EdgeError } from "../../schema/errors.ts";
import { freePort } from "../../scripts/dev/child-processes.ts";

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A server answering each request with the next status of `statuses` (the last one repeated). */
async function serve(statuses: number[]): Promise<{ url: string; hits: () => number }> {
  let n = 0;
  server = createServer((_, res) => {
    const status = statuses[Math.min(n++, statuses.length - 1)] as number;
    res.writeHead(status).end(status === 200 ? "ok" : "no");
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => n };
}

/** A fetch that turns a non-2xx answer into the EdgeError a client would throw. */
async function get(url: string): Promise<string> {
  const res = await fetch(url);
  if (res.status === 404) throw new EdgeError("NOT_FOUND", `GET ${url}: 404`);
  if (!res.ok) throw new EdgeError("INTERNAL", `GET ${url}: ${res.status}`);
  return res.text();
}

const fast = { initialMs: 5, maxMs: 20, factor: 2 };

describe("isTransient", () => {
  it("calls a refused connection from Node's fetch transient", async () => {
    const port = await freePort();
    const error = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(isTransient(error)).toBe(true);
  });

  it("calls a timeout transient, and 5xx and RATE_LIMITED codes, but not 4xx verdicts", async () => {
    const timeout = await fetch("http://127.0.0.1:9/", { signal: AbortSignal.timeout(1) }).catch((e: unknown) => e);
    expect(isTransient(timeout)).toBe(true);
    expect(isTransient(new EdgeError("CHAIN_UNAVAILABLE", "x"))).toBe(true);
    expect(isTransient(new EdgeError("INTAKE_PAUSED", "x"))).toBe(true);
    expect(isTransient(new EdgeError("RATE_LIMITED", "x"))).toBe(true);
    expect(isTransient(new EdgeError("UPLOAD_TOO_LATE", "x"))).toBe(false);
    expect(isTransient(new EdgeError("LEASE_NOT_HELD", "x"))).toBe(false);
    expect(isTransient(new Error("a bug"))).toBe(false);
    expect(isTransient("a string")).toBe(false);
  });
});

describe("backoffDelayMs", () => {
  it("doubles from 0.5 s to the 10 s cap, with half of each step random", () => {
    expect(backoffDelayMs(0, DEFAULT_BACKOFF, () => 0)).toBe(250);
    expect(backoffDelayMs(0, DEFAULT_BACKOFF, () => 1)).toBe(500);
    expect(backoffDelayMs(3, DEFAULT_BACKOFF, () => 1)).toBe(4000);
    expect(backoffDelayMs(30, DEFAULT_BACKOFF, () => 1)).toBe(10_000);
    expect(backoffDelayMs(30, DEFAULT_BACKOFF, () => 0)).toBe(5000);
  });
});

describe("withRetry", () => {
  it("rides out a server that answers 503 twice, then answers", async () => {
    const { url, hits } = await serve([503, 503, 200]);
    const retries: number[] = [];
    const body = await withRetry(() => get(url), { backoff: fast, onRetry: (_, tries) => retries.push(tries) });
    expect(body).toBe("ok");
    expect(hits()).toBe(3);
    expect(retries).toEqual([1, 2]);
  });

  it("rides out a validator that is down, then comes up on the same port", async () => {
    const port = await freePort();
    const started = (async () => {
      await new Promise((r) => setTimeout(r, 150));
      server = createServer((_, res) => res.writeHead(200).end("ok"));
      await new Promise<void>((r) => server?.listen(port, "127.0.0.1", r));
    })();
    let failures = 0;
    const body = await withRetry(() => get(`http://127.0.0.1:${port}/`), {
      backoff: fast,
      onRetry: () => failures++,
    });
    await started;
    expect(body).toBe("ok");
    expect(failures).toBeGreaterThan(0);
  });

  it("never retries a verdict", async () => {
    const { url, hits } = await serve([404]);
    await expect(withRetry(() => get(url), { backoff: fast })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(hits()).toBe(1);
  });

  it("stops at the deadline, and never waits past it", async () => {
    const { url, hits } = await serve([503]);
    const started = Date.now();
    const untilMs = started + 120;
    await expect(withRetry(() => get(url), { backoff: { ...fast, maxMs: 1000 }, untilMs })).rejects.toMatchObject({
      code: "INTERNAL",
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(hits()).toBeGreaterThan(1);
  });

  it("stops after maxTries and when the signal fires", async () => {
    const { url, hits } = await serve([503]);
    await expect(withRetry(() => get(url), { backoff: fast, maxTries: 3 })).rejects.toBeInstanceOf(EdgeError);
    expect(hits()).toBe(3);
    const controller = new AbortController();
    controller.abort();
    await expect(withRetry(() => get(url), { backoff: fast, signal: controller.signal })).rejects.toBeInstanceOf(
      EdgeError,
    );
    expect(hits()).toBe(4);
  });
});
