// Structured logs (workers/logging/log.ts): each line parses as JSON and carries the ids it knows.
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { submissions } from "../../schema/db/index.ts";
import { logEvent, logLine } from "../../workers/logging/log.ts";
import { buildGradient, IDENTITY, TEST_MANIFEST } from "../shared/fixtures/gradients.ts";
import { miner, NETUID, uploadHeaders } from "./support/miners.ts";
import { chainAtPutWindow, db, publishManifest, recordPutWindow, registerMiners, testApp } from "./support/world.ts";

/** Every JSON log line written to console.log/warn/error while `run` runs. */
async function captureLogs(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  };
  const spies = [
    vi.spyOn(console, "log").mockImplementation(keep),
    vi.spyOn(console, "warn").mockImplementation(keep),
    vi.spyOn(console, "error").mockImplementation(keep),
  ];
  try {
    await run();
  } finally {
    for (const s of spies) s.mockRestore();
  }
  return lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

afterEach(() => vi.restoreAllMocks());

describe("log lines", () => {
  it("are one JSON object with ts, level, event and the fields, bigints and errors made JSON", () => {
    const line = logLine(
      "warn",
      "lease.released",
      { window: 7, lease_id: 12, runner_id: "gpu-1", key: 2n ** 64n - 1n, error: new Error("boom") },
      Date.UTC(2026, 0, 2, 3, 4, 5),
    );
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toEqual({
      ts: "2026-01-02T03:04:05.000Z",
      level: "warn",
      event: "lease.released",
      window: 7,
      lease_id: 12,
      runner_id: "gpu-1",
      key: "18446744073709551615",
      error: { name: "Error", message: "boom" },
    });
  });

  it("go to the console stream of their level", async () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, "log").mockImplementation((s) => void out.push(s));
    vi.spyOn(console, "error").mockImplementation((s) => void err.push(s));
    logEvent("info", "a", { uid: 1 });
    logEvent("error", "b", { uid: 2 });
    expect(out.map((s) => JSON.parse(s).event)).toEqual(["a"]);
    expect(err.map((s) => JSON.parse(s).event)).toEqual(["b"]);
  });
});

describe("logs of a real upload", () => {
  const dave = miner(6, "dave");
  const chain = chainAtPutWindow(400);
  const app = testApp(chain);

  it("accept and refuse with window, uid and submission id, one line per request", async () => {
    await publishManifest();
    await registerMiners([dave], chain);
    await recordPutWindow(400, -1000, 60_000);
    const file = buildGradient(1, TEST_MANIFEST, undefined, {
      ...IDENTITY,
      netuid: NETUID,
      window: 400,
      uid: dave.uid,
      hotkey: dave.hotkey,
    }).file;
    const put = () =>
      app.call(`/v1/gradients/400/${dave.uid}`, {
        method: "PUT",
        body: file,
        headers: { ...uploadHeaders(dave, 400, file), "Content-Length": String(file.length) },
      });
    const accepted = await captureLogs(async () => expect((await put()).status).toBe(202));
    const stored = await db.select().from(submissions).where(eq(submissions.window, 400)).get();
    expect(accepted.filter((l) => l.event === "upload.accepted")).toEqual([
      expect.objectContaining({
        level: "info",
        window: 400,
        uid: dave.uid,
        submission_id: stored?.id,
        size_bytes: file.length,
      }),
    ]);
    const refused = await captureLogs(put); // the same signature again
    expect(refused).toEqual([
      expect.objectContaining({ level: "warn", event: "upload.refused", window: 400, uid: dave.uid }),
    ]);
    expect(["SIGNATURE_REPLAYED", "SUBMISSION_EXISTS"]).toContain(refused[0]?.code);
  });
});
