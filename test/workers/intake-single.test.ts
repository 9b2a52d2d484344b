// Single-request uploads through the Worker in workerd: real D1, R2, queue delivery and sr25519.
// Each test starts from the empty world with the manifest and two registered miners.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { chainHead, runners, submissions, uploadRefusalCounts, uploadRefusals } from "../../schema/db/index.ts";
import { getHparams } from "../../schema/hparams.ts";
import { workerContext } from "../../workers/context.ts";
import { windowTick } from "../../workers/cron/window-tick.ts";
import { tokenHash } from "../../workers/runners/runner-auth.ts";
import { handleValidationMessage } from "../../workers/validation/consume.ts";
import { simulateIsolateStart } from "../../workers/validation/redelivery.ts";
import { buildGradient, IDENTITY, TEST_MANIFEST } from "../shared/fixtures/gradients.ts";
import { FakeChain } from "./support/fake-chain.ts";
import { hex, miner, NETUID, neuronOf, signUpload, uploadHeaders } from "./support/miners.ts";
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

const hparams = getHparams("local");
const alice = miner(3, "alice");
const bob = miner(4, "bob");
const outsider = miner(9, "outsider");

/** A valid gradient file of `m` for `window`. */
function fileOf(m: ReturnType<typeof miner>, window: number, seed = m.uid * 1000 + window): Uint8Array {
  return buildGradient(seed, TEST_MANIFEST, undefined, {
    ...IDENTITY,
    netuid: NETUID,
    window,
    uid: m.uid,
    hotkey: m.hotkey,
  }).file;
}

function put(
  app: ReturnType<typeof testApp>,
  window: number,
  uid: number,
  file: Uint8Array,
  headers: object,
  size = file.length,
) {
  return app.call(`/v1/gradients/${window}/${uid}`, {
    method: "PUT",
    body: file,
    headers: { ...headers, "Content-Length": String(size) },
  });
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("single upload", () => {
  let chain: FakeChain;
  let clock: TestClock;
  let app: ReturnType<typeof testApp>;

  beforeEach(async () => {
    chain = chainAtPutWindow(100);
    clock = testClock();
    app = testApp(chain, clock);
    await publishManifest();
    await registerMiners([alice, bob], chain);
  });

  /** Alice's upload for window 100, in its put window. */
  async function uploadInWindow() {
    await recordPutWindow(100, -1000, 60_000);
    const file = fileOf(alice, 100);
    const res = await put(app, 100, alice.uid, file, uploadHeaders(alice, 100, file));
    return { file, res };
  }

  it("is accepted in the put window, and recorded as received", async () => {
    const { file, res } = await uploadInWindow();
    expect(res.status).toBe(202);
    const { submission } = (await res.json()) as { submission: Record<string, unknown> };
    expect(submission).toMatchObject({
      window: 100,
      uid: alice.uid,
      hotkey: alice.hotkey,
      status: "received",
      size_bytes: file.length,
    });
    expect(submission.received_at_ms).toBeGreaterThan(Date.now() - 10_000);
  });

  it("is validated by the consumer: valid, with its tensor digest and parameter sample", async () => {
    await uploadInWindow();
    const verdict = await verdictOf(app, 100, alice.uid);
    expect(verdict).toMatchObject({ status: "valid", error: null });
    const row = await db.select().from(submissions).get();
    expect(row?.tensorDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.paramSample).toHaveProperty("tok_emb");
  });

  it("is re-queued on a restarted Worker's first tick when its validation message was lost, and a duplicate changes nothing", async () => {
    await uploadInWindow();
    await verdictOf(app, 100, alice.uid);
    // Stands in for a message lost with the Worker (wrangler dev's queue lives in memory): the
    // submission still "received", nothing queued for it. workerd cannot kill its own isolate, so
    // simulateIsolateStart stands in for the restart.
    await db.update(submissions).set({ status: "received", validatedAtMs: null });
    const tick = () => windowTick(workerContext(env, () => chain, clock.now));
    simulateIsolateStart(clock.now() - 600_000); // an isolate older than the upload: its message is its own
    expect((await tick()).validationsRequeued).toBe(0); // and too young for the 60 s sweep
    simulateIsolateStart(clock.now() + 1); // a fresh isolate, started after the upload
    expect((await tick()).validationsRequeued).toBe(1);
    expect(await verdictOf(app, 100, alice.uid)).toMatchObject({ status: "valid" });
    expect((await tick()).validationsRequeued).toBe(0); // only the isolate's first tick

    // Duplicates (the re-queued message and the lost one, were it found): the verdict stays as stored.
    const stored = await db.select().from(submissions).get();
    const ctx = workerContext(env, () => chain, clock.now);
    const message = { kind: "validate", submissionId: stored?.id as number } as const;
    await Promise.all([handleValidationMessage(ctx, message), handleValidationMessage(ctx, message)]);
    expect(await db.select().from(submissions).get()).toEqual(stored);
  });

  it("records one verdict when two messages for a received submission are handled at once", async () => {
    await uploadInWindow();
    await verdictOf(app, 100, alice.uid);
    await db.update(submissions).set({ status: "received", validatedAtMs: null });
    const id = (await db.select().from(submissions).get())?.id as number;
    const ctx = workerContext(env, () => chain, clock.now);
    const message = { kind: "validate", submissionId: id } as const;
    await Promise.all([handleValidationMessage(ctx, message), handleValidationMessage(ctx, message)]);
    const once = await db.select().from(submissions).get();
    expect(once).toMatchObject({ status: "valid", validatedAtMs: expect.any(Number) });
    await handleValidationMessage(ctx, message);
    expect(await db.select().from(submissions).get()).toEqual(once);
  });

  it("is served to runners only until the put window closes, then to anyone", async () => {
    const { file } = await uploadInWindow();
    // Before the close: runners only.
    const anonymous = await app.call(`/v1/gradients/100/${alice.uid}`);
    expect(anonymous.status).toBe(401);
    expect(await errorCode(anonymous)).toBe("UNAUTHORIZED");
    await db
      .insert(runners)
      .values({ id: "runner-1", tokenHash: await tokenHash("secret-token"), createdAtMs: Date.now() });
    const asRunner = await app.call(`/v1/gradients/100/${alice.uid}`, {
      headers: { Authorization: "Bearer secret-token" },
    });
    expect(asRunner.status).toBe(200);
    expect(new Uint8Array(await asRunner.arrayBuffer())).toEqual(file);
    const wrongToken = await app.call(`/v1/gradients/100/${alice.uid}`, { headers: { Authorization: "Bearer guess" } });
    expect(wrongToken.status).toBe(401);
    // After the close (60 s on): anyone.
    clock.advance(61_000);
    expect((await app.call(`/v1/gradients/100/${alice.uid}`)).status).toBe(200);
  });

  it("refuses a second upload for the same (window, uid) and keeps the first", async () => {
    await recordPutWindow(101, -1000, 60_000);
    const first = fileOf(bob, 101, 1);
    expect((await put(app, 101, bob.uid, first, uploadHeaders(bob, 101, first))).status).toBe(202);
    const second = fileOf(bob, 101, 2);
    const res = await put(app, 101, bob.uid, second, uploadHeaders(bob, 101, second));
    expect(res.status).toBe(409);
    expect(await errorCode(res)).toBe("SUBMISSION_EXISTS");
    const row = (await db.select().from(submissions).all()).find((s) => s.window === 101);
    const stored = await env.GRADIENTS.get(row?.objectKey as string);
    expect(new Uint8Array(await (stored as R2ObjectBody).arrayBuffer())).toEqual(first);
    // the refused body, streamed while D1 was asked, left nothing behind
    expect((await env.GRADIENTS.list({ prefix: `gradients/${NETUID}/101/` })).objects.map((o) => o.key)).toEqual([
      row?.objectKey,
    ]);
  });

  it("refuses a replayed signature", async () => {
    await recordPutWindow(102, -1000, 60_000);
    const file = fileOf(alice, 102);
    const headers = uploadHeaders(alice, 102, file);
    expect((await put(app, 102, alice.uid, file, headers)).status).toBe(202);
    const again = await put(app, 102, alice.uid, file, headers);
    expect(again.status).toBe(409);
    expect(await errorCode(again)).toBe("SIGNATURE_REPLAYED");
  });

  it("refuses a chunked body (no Content-Length, so no signed size) with SIGNATURE_MISSING", async () => {
    await recordPutWindow(111, -1000, 60_000);
    const file = fileOf(alice, 111);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(file);
        controller.close();
      },
    });
    const res = await app.call(`/v1/gradients/111/${alice.uid}`, {
      method: "PUT",
      body,
      headers: { ...uploadHeaders(alice, 111, file) },
    });
    expect([res.status, await errorCode(res)]).toEqual([401, "SIGNATURE_MISSING"]);
  });

  it("refuses missing and forged signatures without recording them", async () => {
    await recordPutWindow(103, -1000, 60_000);
    const file = fileOf(alice, 103);
    const headers = uploadHeaders(alice, 103, file);
    const missing = await put(app, 103, alice.uid, file, { ...headers, "X-Templar-Signature": "" });
    expect([missing.status, await errorCode(missing)]).toEqual([401, "SIGNATURE_MISSING"]);
    const noHotkey = await put(app, 103, alice.uid, file, {
      "X-Templar-Sha256": headers["X-Templar-Sha256"],
      "X-Templar-Signature": headers["X-Templar-Signature"],
    });
    expect(await errorCode(noHotkey)).toBe("SIGNATURE_MISSING");
    // signed by bob's key, claiming alice's hotkey
    const forged = await put(app, 103, alice.uid, file, uploadHeaders(alice, 103, file, { signer: bob }));
    expect([forged.status, await errorCode(forged)]).toEqual([401, "SIGNATURE_INVALID"]);
    // alice's valid signature for window 102, replayed onto window 103
    const otherWindow = await put(app, 103, alice.uid, file, {
      ...headers,
      "X-Templar-Signature": uploadHeaders(alice, 102, file)["X-Templar-Signature"],
    });
    expect(await errorCode(otherWindow)).toBe("SIGNATURE_INVALID");
    const history = (await (await app.call(`/v1/miners/${alice.uid}/submissions`)).json()) as {
      refusals: { window: number }[];
    };
    expect(history.refusals.filter((r) => r.window === 103)).toEqual([]);
  });

  it("refuses a uid the hotkey does not hold: counted for the window, never written into that uid's record", async () => {
    await recordPutWindow(104, -1000, 60_000);
    const file = fileOf(alice, 104);
    const res = await put(app, 104, bob.uid, file, uploadHeaders(alice, 104, file, { uid: bob.uid }));
    expect([res.status, await errorCode(res)]).toEqual([403, "UID_MISMATCH"]);
    const history = (await (await app.call(`/v1/miners/${bob.uid}/submissions`)).json()) as {
      refusals: { window: number; code: string }[];
    };
    expect(history.refusals.filter((r) => r.window === 104)).toEqual([]);
    const report = (await (await app.call("/v1/windows/104")).json()) as { refusals: Record<string, number> };
    expect(report.refusals).toMatchObject({ UID_MISMATCH: 1 });
  });

  it("writes at most 16 of an owner's refusals a window into its record, and counts the rest", async () => {
    await recordPutWindow(109, 30_000, 48_000); // opens in 30 s: every attempt is early
    for (let i = 0; i < 20; i++) {
      const file = fileOf(alice, 109);
      const res = await put(app, 109, alice.uid, file, uploadHeaders(alice, 109, file));
      expect(await errorCode(res)).toBe("UPLOAD_TOO_EARLY");
    }
    const history = (await (await app.call(`/v1/miners/${alice.uid}/submissions`)).json()) as {
      refusals: { window: number; code: string }[];
    };
    expect(history.refusals.filter((r) => r.window === 109)).toHaveLength(16);
    const report = (await (await app.call("/v1/windows/109")).json()) as { refusals: Record<string, number> };
    expect(report.refusals.UPLOAD_TOO_EARLY).toBe(20);
  });

  it("pages a uid's history by cursor: every entry once, in order, however the refusals fall", async () => {
    // windows 200..205: a submission in every other window, 0..5 refusals in each
    const expected: string[] = [];
    for (let w = 205; w >= 200; w--) {
      if (w % 2 === 0) {
        await db.insert(submissions).values({
          ...{ window: w, uid: alice.uid, hotkey: alice.hotkey, objectKey: `k/${w}`, sizeBytes: 1 },
          ...{ sha256: "00".repeat(32), receivedAtMs: w, signature: `s-${w}`, status: "valid" },
        });
        expected.push(`s${w}`);
      }
      // inserted oldest first; received_at_ms names each one
      for (let i = 0; i < w - 200; i++)
        await db.insert(uploadRefusals).values({
          window: w,
          uid: alice.uid,
          hotkey: alice.hotkey,
          code: "UPLOAD_TOO_LATE",
          message: "m",
          receivedAtMs: i,
        });
      for (let i = w - 201; i >= 0; i--) expected.push(`r${w}.${i}`);
    }
    for (const limit of [1, 4, 7, 200]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = (await (
          await app.call(`/v1/miners/${alice.uid}/submissions?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`)
        ).json()) as {
          submissions: { window: number }[];
          refusals: { window: number; received_at_ms: number }[];
          next_cursor: string | null;
        };
        const entries = [
          ...page.submissions.map((s) => ({ key: `s${s.window}`, window: s.window, rank: 0, id: 0 })),
          ...page.refusals.map((r) => ({
            key: `r${r.window}.${r.received_at_ms}`,
            window: r.window,
            rank: 1,
            id: r.received_at_ms,
          })),
        ].sort((a, b) => b.window - a.window || a.rank - b.rank || b.id - a.id);
        expect(entries.length).toBeLessThanOrEqual(limit);
        seen.push(...entries.map((e) => e.key));
        cursor = page.next_cursor;
        pages++;
      } while (cursor !== null && pages < 100);
      expect(seen, `limit ${limit}`).toEqual(expected);
      expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
    }
    for (const bad of ["x", "1.2.3", "99999999999999999.0.1", "1.0.1;drop", "1".repeat(41)]) {
      const res = await app.call(`/v1/miners/${alice.uid}/submissions?cursor=${encodeURIComponent(bad)}`);
      expect([res.status, await errorCode(res)], bad).toEqual([400, "BAD_REQUEST"]);
    }
  });

  it("counts unsigned and forged attempts for a window near the head, writes them under no uid, and ignores far windows", async () => {
    await recordPutWindow(100, -1000, 60_000);
    // the head as the cron records it: unsigned attempts are judged on D1's head, never the chain's
    const now = Date.now();
    await db.insert(chainHead).values({ id: 1, block: 101 * 20 + 1, hash: "0x00", timestampMs: now, seenAtMs: now });
    const file = fileOf(alice, 100);
    const unsigned = await put(app, 100, alice.uid, file, {});
    expect(await errorCode(unsigned)).toBe("SIGNATURE_MISSING");
    const forged = await put(app, 100, alice.uid, file, {
      ...uploadHeaders(alice, 100, file),
      "X-Templar-Signature": `0x${"ab".repeat(64)}`,
    });
    expect(await errorCode(forged)).toBe("SIGNATURE_INVALID");
    for (const far of [7, 5_000, 300_000_000]) {
      const res = await put(app, far, alice.uid, file, {});
      expect(await errorCode(res)).toBe("SIGNATURE_MISSING");
    }
    // alice's own signature for a window far ahead is refused before anything is recorded
    const ahead = fileOf(alice, 300_000_000);
    const early = await put(app, 300_000_000, alice.uid, ahead, uploadHeaders(alice, 300_000_000, ahead));
    expect(await errorCode(early)).toBe("UPLOAD_TOO_EARLY");
    const history = (await (await app.call(`/v1/miners/${alice.uid}/submissions`)).json()) as { refusals: unknown[] };
    expect(history.refusals).toEqual([]);
    const report = (await (await app.call("/v1/windows/100")).json()) as { refusals: Record<string, number> };
    expect(report.refusals).toEqual({ SIGNATURE_MISSING: 1, SIGNATURE_INVALID: 1 });
    const counted = await db.select().from(uploadRefusalCounts);
    expect(counted.map((r) => r.window)).toEqual([100, 100]);
  });

  it("refuses an unregistered hotkey after at most one rate-limited metagraph refresh", async () => {
    await recordPutWindow(105, -1000, 60_000);
    const file = fileOf(outsider, 105);
    const before = chain.calls.metagraph;
    const res = await put(app, 105, outsider.uid, file, uploadHeaders(outsider, 105, file));
    expect([res.status, await errorCode(res)]).toEqual([403, "HOTKEY_UNREGISTERED"]);
    expect(chain.calls.metagraph).toBe(before + 1);
    // Within the refresh interval, another unknown hotkey does not reach the chain again…
    const other = miner(11, "another-outsider");
    const again = await put(app, 105, other.uid, file, uploadHeaders(other, 105, file));
    expect(await errorCode(again)).toBe("HOTKEY_UNREGISTERED");
    expect(chain.calls.metagraph).toBe(before + 1);
    // Neither is written under the uid it named; both are counted for the window.
    const history = (await (await app.call(`/v1/miners/${outsider.uid}/submissions`)).json()) as {
      refusals: { window: number }[];
    };
    expect(history.refusals.filter((r) => r.window === 105)).toEqual([]);
    const report = (await (await app.call("/v1/windows/105")).json()) as { refusals: Record<string, number> };
    expect(report.refusals).toMatchObject({ HOTKEY_UNREGISTERED: 2 });
  });

  it("accepts a hotkey the refresh finds registered on chain", async () => {
    await recordPutWindow(106, -1000, 60_000);
    const newcomer = miner(12, "newcomer");
    const fresh = new FakeChain({ headNumber: 107 * 20 + 1, anchor: { number: 107 * 20, atMs: Date.now() - 2000 } });
    fresh.neurons = [alice, bob, newcomer].map(neuronOf);
    const freshApp = testApp(fresh);
    const file = fileOf(newcomer, 106);
    const res = await put(freshApp, 106, newcomer.uid, file, uploadHeaders(newcomer, 106, file));
    expect(res.status).toBe(202);
    expect(fresh.calls.metagraph).toBe(1);
  });

  it("refreshes the metagraph again once the refresh interval has passed on the app's clock", async () => {
    await recordPutWindow(106, -1000, 60_000);
    const newcomer = miner(12, "newcomer");
    const file = fileOf(newcomer, 106);
    const before = chain.calls.metagraph;
    // The newcomer is not on chain yet: one refresh, then refused.
    const first = await put(app, 106, newcomer.uid, file, uploadHeaders(newcomer, 106, file));
    expect(await errorCode(first)).toBe("HOTKEY_UNREGISTERED");
    expect(chain.calls.metagraph).toBe(before + 1);
    // It registers; within the interval the validator does not look again…
    chain.neurons = [alice, bob, newcomer].map(neuronOf);
    const within = await put(app, 106, newcomer.uid, file, uploadHeaders(newcomer, 106, file));
    expect(await errorCode(within)).toBe("HOTKEY_UNREGISTERED");
    expect(chain.calls.metagraph).toBe(before + 1);
    // …and once the interval has passed, it does, and finds it.
    clock.advance(hparams.intake.metagraph_refresh_seconds * 1000);
    const after = await put(app, 106, newcomer.uid, file, uploadHeaders(newcomer, 106, file));
    expect(after.status).toBe(202);
    expect(chain.calls.metagraph).toBe(before + 2);
  });

  it("refuses early and late uploads with their own codes, records them, and stores nothing", async () => {
    await recordPutWindow(107, 30_000, 48_000); // opens in 30 s
    await recordPutWindow(108, -60_000, -42_000); // closed 42 s ago
    const early = fileOf(alice, 107);
    const late = fileOf(alice, 108);
    const r1 = await put(app, 107, alice.uid, early, uploadHeaders(alice, 107, early));
    expect([r1.status, await errorCode(r1)]).toEqual([425, "UPLOAD_TOO_EARLY"]);
    const r2 = await put(app, 108, alice.uid, late, uploadHeaders(alice, 108, late));
    expect([r2.status, await errorCode(r2)]).toEqual([409, "UPLOAD_TOO_LATE"]);
    // A window whose opening block the chain has not produced yet is early too.
    const future = fileOf(alice, 500);
    const r3 = await put(app, 500, alice.uid, future, uploadHeaders(alice, 500, future));
    expect(await errorCode(r3)).toBe("UPLOAD_TOO_EARLY");
    // One far past the head is refused on the head alone: no chain call, however far (its opening
    // block would not even fit the chain's u32 block numbers).
    const calls = { ...chain.calls };
    const far = fileOf(alice, 300_000_000);
    const r4 = await put(app, 300_000_000, alice.uid, far, uploadHeaders(alice, 300_000_000, far));
    expect([r4.status, await errorCode(r4)]).toEqual([425, "UPLOAD_TOO_EARLY"]);
    expect(chain.calls).toEqual(calls);
    const history = (await (await app.call(`/v1/miners/${alice.uid}/submissions`)).json()) as {
      refusals: { window: number; code: string }[];
    };
    // windows near the head are recorded; those more than a window ahead are not (anyone could
    // otherwise add a row per window they name)
    expect(history.refusals.map((r) => [r.window, r.code])).toEqual([
      [108, "UPLOAD_TOO_LATE"],
      [107, "UPLOAD_TOO_EARLY"],
    ]);
    const listed = await env.GRADIENTS.list({ prefix: `gradients/${NETUID}/107/` });
    expect(listed.objects).toEqual([]);
    expect((await env.GRADIENTS.list({ prefix: `gradients/${NETUID}/108/` })).objects).toEqual([]);
  });

  it("refuses a body whose SHA-256 is not the signed one, keeping nothing", async () => {
    await recordPutWindow(109, -1000, 60_000);
    const file = fileOf(bob, 109);
    const claimed = hex(new Uint8Array(32).fill(7));
    const res = await put(app, 109, bob.uid, file, uploadHeaders(bob, 109, file, { claimedSha: claimed }));
    expect([res.status, await errorCode(res)]).toEqual([422, "SHA256_MISMATCH"]);
    expect((await env.GRADIENTS.list({ prefix: `gradients/${NETUID}/109/` })).objects).toEqual([]);
    expect((await app.call(`/v1/submissions/109/${bob.uid}`)).status).toBe(404);
  });

  it("refuses sizes above the limits before reading the body", async () => {
    await recordPutWindow(110, -1000, 60_000);
    const res = await app.call("/v1/hparams");
    const { limits } = (await res.json()) as {
      limits: { max_gradient_bytes: number; max_single_upload_bytes: number };
    };
    const sha256 = hex(new Uint8Array(32).fill(1));
    const claim = (size: number) => ({
      "X-Templar-Hotkey": bob.hotkey,
      "X-Templar-Sha256": sha256,
      "X-Templar-Signature": signUpload(bob, { window: 110, uid: bob.uid, sha256, size }),
    });
    const huge = limits.max_gradient_bytes + 1;
    const oversize = await app.call(`/v1/gradients/110/${bob.uid}/multipart`, {
      method: "POST",
      headers: { ...claim(huge), "X-Templar-Size": String(huge) },
    });
    expect([oversize.status, await errorCode(oversize)]).toEqual([413, "SIZE_LIMIT_EXCEEDED"]);
    // A single request above its limit is told to use multipart; its body is never read.
    const big = limits.max_single_upload_bytes + 1;
    const body = new ReadableStream({ start: (c) => c.enqueue(new Uint8Array(16)) });
    const single = await app.call(`/v1/gradients/110/${bob.uid}`, {
      method: "PUT",
      body,
      headers: { ...claim(big), "Content-Length": String(big) },
    });
    expect([single.status, await errorCode(single)]).toEqual([413, "MULTIPART_REQUIRED"]);
    const history = (await (await app.call(`/v1/miners/${bob.uid}/submissions`)).json()) as {
      refusals: { window: number; code: string }[];
    };
    expect(
      history.refusals
        .filter((r) => r.window === 110)
        .map((r) => r.code)
        .sort(),
    ).toEqual(["MULTIPART_REQUIRED", "SIZE_LIMIT_EXCEEDED"]);
  });

  it("answers malformed paths with coded 4xx errors", async () => {
    const res = await app.call("/v1/gradients/abc/3", { method: "PUT", body: "x" });
    expect([res.status, await errorCode(res)]).toEqual([400, "BAD_REQUEST"]);
    const neg = await app.call("/v1/submissions/-1/3");
    expect(neg.status).toBe(400);
    const none = await app.call(`/v1/submissions/999/${alice.uid}`);
    expect([none.status, await errorCode(none)]).toEqual([404, "NOT_FOUND"]);
  });
});
