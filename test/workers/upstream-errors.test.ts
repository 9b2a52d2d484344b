// An upstream failure (here: a chain node that answers with an error) reaches the client as a
// stable code and a short public message; what the upstream said goes to the log only.
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeChain } from "./support/fake-chain.ts";
import { testApp } from "./support/world.ts";

/** What a node's error can look like: a request with a signed extrinsic in it. */
const UPSTREAM = "-32000: Client error: Execution failed: 0x45022800d43593c715fdd31c61141abd04a99fd6822c8558";

class DownChain extends FakeChain {
  override async head(): Promise<never> {
    throw new Error(UPSTREAM);
  }
}

afterEach(() => vi.restoreAllMocks());

describe("an upstream failure", () => {
  it("answers CHAIN_UNAVAILABLE without the node's text, and logs that text", async () => {
    const lines: string[] = [];
    for (const stream of ["log", "warn", "error"] as const)
      vi.spyOn(console, stream).mockImplementation((line: unknown) => void lines.push(String(line)));
    const app = testApp(new DownChain({ headNumber: 100, anchor: { number: 0, atMs: Date.now() - 300_000 } }));

    const res = await app.call("/v1/windows/current");
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({
      error: { code: "CHAIN_UNAVAILABLE", message: "could not reach the chain for the head" },
    });
    expect(body).not.toContain("0x4502");

    const logged = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: "warn",
        event: "upstream.failed",
        code: "CHAIN_UNAVAILABLE",
        error: { name: "Error", message: UPSTREAM },
      }),
    );
  });
});
