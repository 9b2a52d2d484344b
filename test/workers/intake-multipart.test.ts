// Multipart uploads through the R2 binding in workerd, under the session's signature. Each test
// starts from the empty world with the manifest and two registered miners.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { multipartUploads } from "../../schema/db/index.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { buildGradient, IDENTITY } from "../shared/fixtures/gradients.ts";
import { miner, NETUID, uploadHeaders } from "./support/miners.ts";
import {
  chainAtPutWindow,
  db,
  publishManifest,
  recordPutWindow,
  registerMiners,
  type TestClock,
  testApp,
  testClock,
  verdictOf,
} from "./support/world.ts";

// R2 wants every part but the last to be at least 5 MiB, so this model's gradient must be larger:
// 1-D parameters keep every coordinate (k = chunk size), 112 bytes per 64 values in format
// version 1, which these files use (version 2 codes a full chunk's indices in 16 bytes, not 96).
const WIDE: ModelManifest = {
  model: "multipart-test",
  parameters: [
    ...Array.from({ length: 12 }, (_, i) => ({ name: `wide.${i}`, shape: [262_144] })),
    { name: "proj", shape: [128, 64] },
  ],
};
const MiB = 1024 * 1024;

const carol = miner(5, "carol");
const dave = miner(6, "dave");

function fileOf(m: ReturnType<typeof miner>, window: number): Uint8Array {
  const identity = { ...IDENTITY, netuid: NETUID, window, uid: m.uid, hotkey: m.hotkey };
  return buildGradient(window, WIDE, undefined, identity, 1).file;
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe("multipart upload", () => {
  const chain = chainAtPutWindow(200);
  let clock: TestClock;
  let app: ReturnType<typeof testApp>;
  const base = (window: number, uid: number) => `/v1/gradients/${window}/${uid}/multipart`;

  beforeEach(async () => {
    clock = testClock();
    app = testApp(chain, clock);
    await publishManifest(WIDE);
    await registerMiners([carol, dave], chain);
  });

  /** Creates a session and uploads `file` cut at the given offsets; returns the session and parts. */
  async function openAndSend(
    m: ReturnType<typeof miner>,
    window: number,
    file: Uint8Array,
    cuts: number[],
    sent = file,
  ) {
    const headers = uploadHeaders(m, window, file);
    const created = await app.call(base(window, m.uid), {
      method: "POST",
      headers: { ...headers, "X-Templar-Size": String(file.length) },
    });
    expect(created.status).toBe(201);
    const { upload_id } = await json<{ upload_id: string }>(created);
    const bounds = [0, ...cuts, sent.length];
    const parts: { part_number: number; etag: string }[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const bytes = sent.subarray(bounds[i], bounds[i + 1]);
      const res = await app.call(`${base(window, m.uid)}/${encodeURIComponent(upload_id)}/parts/${i + 1}`, {
        method: "PUT",
        body: bytes,
        headers: {
          "X-Templar-Hotkey": m.hotkey,
          "X-Templar-Signature": headers["X-Templar-Signature"],
          "Content-Length": String(bytes.length),
        },
      });
      expect(res.status).toBe(200);
      const part = await json<{ part_number: number; etag: string; size_bytes: number }>(res);
      expect(part.size_bytes).toBe(bytes.length);
      parts.push({ part_number: part.part_number, etag: part.etag });
    }
    const complete = (listed: typeof parts) =>
      app.call(`${base(window, m.uid)}/${encodeURIComponent(upload_id)}/complete`, {
        method: "POST",
        body: JSON.stringify({ parts: listed }),
        headers: {
          "X-Templar-Hotkey": m.hotkey,
          "X-Templar-Signature": headers["X-Templar-Signature"],
          "Content-Type": "application/json",
        },
      });
    return { upload_id, parts, headers, complete };
  }

  it("assembles parts into one stored object, records creation and completion times, and validates it", async () => {
    await recordPutWindow(200, -1000, 60_000);
    const file = fileOf(carol, 200);
    expect(file.length).toBeGreaterThan(5 * MiB);
    const { complete, parts } = await openAndSend(carol, 200, file, [5 * MiB]);
    expect(parts).toHaveLength(2);
    const done = await complete(parts);
    expect(done.status).toBe(202);
    const { submission } = await json<{ submission: Record<string, number | string> }>(done);
    expect(submission.multipart_created_at_ms).toBeLessThanOrEqual(submission.received_at_ms as number);
    const stored = await env.GRADIENTS.get(submission.object_key as string);
    expect(new Uint8Array(await (stored as R2ObjectBody).arrayBuffer())).toEqual(file);
    expect(await verdictOf(app, 200, carol.uid)).toMatchObject({ status: "valid", error: null });
    const session = await db.select().from(multipartUploads).get();
    expect(session?.state).toBe("completed");
  });

  it("refuses a truncated upload: a completion missing parts or bytes", async () => {
    await recordPutWindow(201, -1000, 60_000);
    const file = fileOf(dave, 201);
    // signed for the whole file, but its last 1000 bytes are never sent
    const { complete, parts } = await openAndSend(dave, 201, file, [5 * MiB], file.subarray(0, file.length - 1000));
    const truncated = await complete(parts);
    expect(truncated.status).toBe(400);
    expect((await json<{ error: { code: string } }>(truncated)).error.code).toBe("MULTIPART_INCOMPLETE");
    // listing fewer parts than were uploaded
    const skipped = await complete(parts.slice(0, 1));
    expect((await json<{ error: { code: string } }>(skipped)).error.code).toBe("MULTIPART_INCOMPLETE");
    expect((await app.call(`/v1/submissions/201/${dave.uid}`)).status).toBe(404);
  });

  it("refuses parts below the minimum size except the last, and parts longer than the file", async () => {
    await recordPutWindow(202, -1000, 60_000);
    const file = fileOf(carol, 202);
    const { complete, parts, upload_id, headers } = await openAndSend(carol, 202, file, [MiB]);
    const tooSmall = await complete(parts);
    expect((await json<{ error: { code: string } }>(tooSmall)).error.code).toBe("MULTIPART_PART_INVALID");
    const tooLong = await app.call(`${base(202, carol.uid)}/${encodeURIComponent(upload_id)}/parts/3`, {
      method: "PUT",
      body: new Uint8Array(file.length + 1),
      headers: {
        "X-Templar-Hotkey": carol.hotkey,
        "X-Templar-Signature": headers["X-Templar-Signature"],
        "Content-Length": String(file.length + 1),
      },
    });
    expect((await json<{ error: { code: string } }>(tooLong)).error.code).toBe("SIZE_MISMATCH");
    const partZero = await app.call(`${base(202, carol.uid)}/${encodeURIComponent(upload_id)}/parts/0`, {
      method: "PUT",
      body: new Uint8Array(10),
      headers: {
        "X-Templar-Hotkey": carol.hotkey,
        "X-Templar-Signature": headers["X-Templar-Signature"],
        "Content-Length": "10",
      },
    });
    expect((await json<{ error: { code: string } }>(partZero)).error.code).toBe("MULTIPART_PART_INVALID");
  });

  it("accepts part and completion requests only with the session's hotkey and signature", async () => {
    await recordPutWindow(203, -1000, 60_000);
    const file = fileOf(dave, 203);
    const { upload_id, parts } = await openAndSend(dave, 203, file, [5 * MiB]);
    const stranger = uploadHeaders(carol, 203, file);
    const res = await app.call(`${base(203, dave.uid)}/${encodeURIComponent(upload_id)}/complete`, {
      method: "POST",
      body: JSON.stringify({ parts }),
      headers: { "X-Templar-Hotkey": carol.hotkey, "X-Templar-Signature": stranger["X-Templar-Signature"] },
    });
    expect((await json<{ error: { code: string } }>(res)).error.code).toBe("SIGNATURE_INVALID");
    const unknown = await app.call(`${base(203, dave.uid)}/nonexistent/complete`, {
      method: "POST",
      body: JSON.stringify({ parts }),
      headers: { ...stranger },
    });
    expect([unknown.status, (await json<{ error: { code: string } }>(unknown)).error.code]).toEqual([
      404,
      "MULTIPART_UNKNOWN",
    ]);
  });

  it("refuses a session opened before its put window, and opens it with the same signature once the window opens", async () => {
    await recordPutWindow(204, 20_000, 38_000);
    const file = fileOf(carol, 204);
    const headers = { ...uploadHeaders(carol, 204, file), "X-Templar-Size": String(file.length) };
    const early = await app.call(base(204, carol.uid), { method: "POST", headers });
    expect([early.status, (await json<{ error: { code: string } }>(early)).error.code]).toEqual([
      425,
      "UPLOAD_TOO_EARLY",
    ]);
    clock.advance(21_000); // the put window is open
    expect((await app.call(base(204, carol.uid), { method: "POST", headers })).status).toBe(201);
  });

  it("refuses a second session opened with one signature (SIGNATURE_REPLAYED)", async () => {
    await recordPutWindow(204, -1000, 60_000);
    const file = fileOf(carol, 204);
    const headers = { ...uploadHeaders(carol, 204, file), "X-Templar-Size": String(file.length) };
    expect((await app.call(base(204, carol.uid), { method: "POST", headers })).status).toBe(201);
    const twice = await app.call(base(204, carol.uid), { method: "POST", headers });
    expect((await json<{ error: { code: string } }>(twice)).error.code).toBe("SIGNATURE_REPLAYED");
  });

  it("aborts a session on request", async () => {
    await recordPutWindow(205, -1000, 60_000);
    const file = fileOf(dave, 205);
    const { upload_id, headers } = await openAndSend(dave, 205, file, [5 * MiB]);
    const signed = { "X-Templar-Hotkey": dave.hotkey, "X-Templar-Signature": headers["X-Templar-Signature"] };
    const res = await app.call(`${base(205, dave.uid)}/${encodeURIComponent(upload_id)}`, {
      method: "DELETE",
      headers: signed,
    });
    expect(res.status).toBe(204);
    const after = await app.call(`${base(205, dave.uid)}/${encodeURIComponent(upload_id)}`, {
      method: "DELETE",
      headers: signed,
    });
    expect((await json<{ error: { code: string } }>(after)).error.code).toBe("MULTIPART_UNKNOWN");
  });
});
