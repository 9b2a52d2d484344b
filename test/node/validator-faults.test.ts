// Clients of the validator against real faults on a real HTTP server: a port nobody listens on
// yet, 503s, verdicts. The runner's ValidatorApi rides them out (and says when the validator was
// gone and came back), its lease heartbeat beats at the lease's start and notices a lost lease,
// and the miner's upload is retried freshly signed (real sr25519) only while the put window is
// open, a duplicate answer to a retry whose first try landed counting as success.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { verify } from "@scure/sr25519";
import { afterEach, describe, expect, it } from "vitest";
import { LeaseHeartbeat } from "../../gpu-runner/lease-heartbeat.ts";
import type { RunnerLogFields } from "../../gpu-runner/runner-log.ts";
import { ValidatorApi } from "../../gpu-runner/validator-api.ts";
import type { Backoff } from "../../schema/api/retry.ts";
import { EdgeError } from "../../schema/errors.ts";
import { getHparams } from "../../schema/hparams.ts";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { signedMessage } from "../../schema/upload/upload-claim.ts";
import { freePort } from "../../scripts/dev/child-processes.ts";
import { uploadWithRetry } from "../../scripts/miner/upload.ts";

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** Serves `handler` on `port` (127.0.0.1); resolves once listening. */
async function serve(port: number, handler: Handler): Promise<void> {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((r) => server?.listen(port, "127.0.0.1", r));
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
const refuse = (res: ServerResponse, status: number, code: string) =>
  json(res, status, { error: { code, message: code.toLowerCase() } });

describe("the runner's ValidatorApi", () => {
  it("waits out a validator that is not listening yet, then answers; reports it gone and back once", async () => {
    const port = await freePort();
    const events: string[] = [];
    const api = new ValidatorApi(`http://127.0.0.1:${port}`, "token", {
      unreachable: () => events.push("unreachable"),
      back: (downMs) => events.push(`back ${downMs > 0}`),
    });
    const lease = api.lease();
    // Nothing listens for a while: the first tries are refused connections.
    await new Promise((r) => setTimeout(r, 700));
    expect(events).toEqual(["unreachable"]);
    let polls = 0;
    await serve(port, (req, _body, res) => {
      polls++;
      expect(req.headers.authorization).toBe("Bearer token");
      res.writeHead(204).end();
    });
    expect(await lease).toBeNull();
    expect(polls).toBe(1);
    expect(events).toEqual(["unreachable", "back true"]);
  });

  it("retries 5xx answers and non-catalog error pages, but never a 4xx verdict", async () => {
    const port = await freePort();
    const hits: string[] = [];
    await serve(port, (req, _body, res) => {
      hits.push(req.url as string);
      const n = hits.filter((u) => u === req.url).length;
      if (req.url === "/v1/hparams") {
        if (n === 1) return refuse(res, 503, "CHAIN_UNAVAILABLE");
        if (n === 2) return res.writeHead(502).end("<html>bad gateway</html>");
        return json(res, 200, getHparams("local"));
      }
      refuse(res, 409, "LEASE_NOT_HELD");
    });
    const api = new ValidatorApi(`http://127.0.0.1:${port}`, "token");
    expect((await api.hparams()).profile).toBe("local");
    const beat = api.heartbeat(7).catch((e: unknown) => e);
    expect(await beat).toBeInstanceOf(EdgeError);
    expect(((await beat) as EdgeError).code).toBe("LEASE_NOT_HELD");
    expect(hits).toEqual(["/v1/hparams", "/v1/hparams", "/v1/hparams", "/v1/runner/leases/7/heartbeat"]);
  });

  it("gives up on a transient failure at the caller's deadline", async () => {
    const port = await freePort();
    let hits = 0;
    await serve(port, (_req, _body, res) => {
      hits++;
      refuse(res, 500, "INTERNAL");
    });
    const api = new ValidatorApi(`http://127.0.0.1:${port}`, "token");
    const failed = await api
      .postResults(3, [], { untilMs: Date.now() + 300 })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect((failed as EdgeError).code).toBe("INTERNAL");
    expect(hits).toBeGreaterThanOrEqual(1);
  });
});

describe("a lease's heartbeat", () => {
  const logged: { event: string; fields?: RunnerLogFields }[] = [];
  const log = (event: string, _msg: string, fields?: RunnerLogFields) => logged.push({ event, fields });

  it("beats once before the work starts, then every interval, retrying a failed beat; stops when told", async () => {
    const port = await freePort();
    const beats: number[] = [];
    await serve(port, (req, _body, res) => {
      expect(req.url).toBe("/v1/runner/leases/5/heartbeat");
      beats.push(Date.now());
      if (beats.length === 2) return refuse(res, 503, "INTERNAL"); // the second beat's first try fails
      json(res, 200, { expires_at_ms: Date.now() + 10_000 });
    });
    const api = new ValidatorApi(`http://127.0.0.1:${port}`, "token");
    const heartbeat = await LeaseHeartbeat.start(api, { id: 5, expires_at_ms: Date.now() + 10_000 }, 200, log);
    // The first beat is in before start() resolves, i.e. before any work.
    expect(beats).toHaveLength(1);
    while (beats.length < 4) await new Promise((r) => setTimeout(r, 50));
    await heartbeat.stop();
    const after = beats.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(beats.length).toBe(after);
    expect(heartbeat.lost).toBeUndefined();
    expect(logged.filter((l) => l.event === "lease.heartbeat").length).toBeGreaterThanOrEqual(3);
  });

  it("marks the lease lost when the validator no longer holds it", async () => {
    const port = await freePort();
    await serve(port, (_req, _body, res) => refuse(res, 409, "LEASE_NOT_HELD"));
    const api = new ValidatorApi(`http://127.0.0.1:${port}`, "token");
    const heartbeat = await LeaseHeartbeat.start(api, { id: 9, expires_at_ms: Date.now() + 10_000 }, 200, log);
    expect(heartbeat.lost?.code).toBe("LEASE_NOT_HELD");
    expect(logged.some((l) => l.event === "lease.lost" && l.fields?.lease_id === 9)).toBe(true);
    await heartbeat.stop();
  });
});

describe("the miner's upload", () => {
  const hparams = getHparams("local");
  const signer = hotkeySignerFromSecret("//Alice//faults");
  const file = new Uint8Array(1000).map((_, i) => i % 251);
  const sha256 = createHash("sha256").update(file).digest("hex");
  const fast: Backoff = { initialMs: 50, maxMs: 200, factor: 2 };

  /** A validator that records the first PUT but answers it 503, then says the submission exists. */
  async function landsThenFails(port: number, signatures: string[]): Promise<void> {
    await serve(port, (req, body, res) => {
      if (req.method === "GET") {
        expect(req.url).toBe("/v1/submissions/12/4");
        return json(res, 200, { submission: { window: 12, uid: 4, sha256, status: "received", size_bytes: 1000 } });
      }
      expect(body.length).toBe(file.length);
      signatures.push(req.headers["x-templar-signature"] as string);
      if (signatures.length === 1) return refuse(res, 503, "INTERNAL");
      refuse(res, 409, "SUBMISSION_EXISTS");
    });
  }

  it("retries a failed upload signed anew, and takes a duplicate answer for success when the file landed", async () => {
    const port = await freePort();
    const signatures: string[] = [];
    await landsThenFails(port, signatures);
    const target = { url: `http://127.0.0.1:${port}`, netuid: 2, window: 12, uid: 4 };
    const out = await uploadWithRetry(signer, target, file, hparams.limits, {
      untilMs: Date.now() + 10_000,
      backoff: fast,
    });
    expect(out).toMatchObject({ accepted: true, submission: { sha256 } });
    expect(signatures).toHaveLength(2);
    expect(signatures[0]).not.toBe(signatures[1]);
    const message = signedMessage({ ...target, sha256, size: file.length });
    for (const s of signatures) {
      expect(verify(message, Buffer.from(s.slice(2), "hex"), signer.publicKey)).toBe(true);
    }
  });

  it("does not retry once the put window has closed, nor after a refusal", async () => {
    const port = await freePort();
    const seen: string[] = [];
    await serve(port, (req, _body, res) => {
      seen.push(req.url as string);
      if (req.url?.endsWith("/4")) return refuse(res, 503, "INTERNAL");
      refuse(res, 409, "UPLOAD_TOO_LATE");
    });
    const url = `http://127.0.0.1:${port}`;
    const closed = await uploadWithRetry(signer, { url, netuid: 2, window: 12, uid: 4 }, file, hparams.limits, {
      untilMs: Date.now() - 1,
      backoff: fast,
    });
    expect(closed).toMatchObject({ accepted: false, status: 503, code: "INTERNAL" });
    const late = await uploadWithRetry(signer, { url, netuid: 2, window: 12, uid: 5 }, file, hparams.limits, {
      untilMs: Date.now() + 10_000,
      backoff: fast,
    });
    expect(late).toMatchObject({ accepted: false, status: 409, code: "UPLOAD_TOO_LATE" });
    expect(seen).toEqual(["/v1/gradients/12/4", "/v1/gradients/12/5"]);
  });
});
