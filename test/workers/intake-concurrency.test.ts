// 64 miners uploading at once into one put window: every upload recorded, validated, none lost.
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { submissions } from "../../schema/db/index.ts";
import { buildGradient, IDENTITY, TEST_MANIFEST } from "../shared/fixtures/gradients.ts";
import { miner, NETUID, uploadHeaders } from "./support/miners.ts";
import { chainAtPutWindow, db, publishManifest, recordPutWindow, registerMiners, testApp } from "./support/world.ts";

const W = 700;
const miners = Array.from({ length: 64 }, (_, i) => miner(100 + i, `swarm-${i}`));
const app = testApp(chainAtPutWindow(W));

describe("64 concurrent miners", () => {
  beforeEach(async () => {
    await publishManifest();
    await registerMiners(miners);
    await recordPutWindow(W, -1000, 120_000);
  });

  it("are all accepted, recorded once each, and all validated", async () => {
    const files = miners.map(
      (m) =>
        buildGradient(m.uid, TEST_MANIFEST, undefined, {
          ...IDENTITY,
          netuid: NETUID,
          window: W,
          uid: m.uid,
          hotkey: m.hotkey,
        }).file,
    );
    const responses = await Promise.all(
      miners.map((m, i) =>
        app.call(`/v1/gradients/${W}/${m.uid}`, {
          method: "PUT",
          body: files[i],
          headers: { ...uploadHeaders(m, W, files[i] as Uint8Array), "Content-Length": String(files[i]?.length) },
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(miners.map(() => 202));
    const rows = await db.select().from(submissions).where(eq(submissions.window, W));
    expect(rows.map((r) => r.uid).sort((a, b) => a - b)).toEqual(miners.map((m) => m.uid));
    // every object is the uploader's own bytes
    for (const row of rows) {
      const stored = (await env.GRADIENTS.get(row.objectKey)) as R2ObjectBody;
      expect(new Uint8Array(await stored.arrayBuffer())).toEqual(files[row.uid - 100]);
    }
    await vi.waitUntil(
      async () =>
        (await db.select().from(submissions).where(eq(submissions.window, W))).every((r) => r.status === "valid"),
      { timeout: 60_000, interval: 250 },
    );
  });
});
