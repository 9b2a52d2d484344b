// The hostile suite: more than 10,000 requests of every attack class (scripts/hostile/) against
// `wrangler dev` with the local chain (chopsticks running the subtensor runtime), while honest
// miners upload in the same put window. Every answer is checked as it comes (no 5xx, no hang,
// every refusal a JSON body with a catalog code its class allows); afterwards D1 shows that no
// unauthenticated request wrote a row, and the honest miners' records hold exactly their uploads.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryD1 } from "../../scripts/dev/wrangler-dev.ts";
import { ATTACK_CLASSES } from "../../scripts/hostile/attack-classes.ts";
import {
  type HostileNetwork,
  hostileRound,
  type RoundResult,
  startHostileNetwork,
} from "../../scripts/hostile/hostile-round.ts";
import { trafficTable } from "../../scripts/hostile/traffic.ts";
import { specAvailable } from "../../scripts/local-chain/subtensor-spec.ts";
import { until } from "./support/local-validator.ts";

const REQUESTS = 10_000;
const HONEST = 4;

describe.skipIf(!specAvailable())("hostile traffic against wrangler dev and the local chain", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "hostile-"));
  let net: HostileNetwork;
  let round: RoundResult;
  /** Reads D1 beside the running validator. */
  const sql = <T>(command: string): Promise<T[]> => queryD1<T>(net.state, command);

  beforeAll(async () => {
    net = await startHostileNetwork(dir, HONEST, (line) => console.log(`[hostile] ${line}`));
    round = await hostileRound(net, {
      ...{ requests: REQUESTS, concurrency: 24, floodConcurrency: 8 },
      // window 0 has no closed window before it for the closed-window class
      ...{ windowLeftMs: 14_000, fromWindow: 1 },
      log: (line) => console.log(`[hostile] ${line}`),
    });
    console.log(`[hostile] window ${round.window}\n${round.traffic && trafficTable(round.traffic)}`);
  }, 420_000);

  afterAll(async () => {
    await net?.network.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`answers ${REQUESTS} requests of ${ATTACK_CLASSES.length} classes and a one-client flood: never a 5xx or a hang, every refusal a catalog code its class allows`, () => {
    const traffic = round.traffic;
    expect(traffic).not.toBeNull();
    if (!traffic) return;
    expect(traffic.classes.length).toBeGreaterThanOrEqual(14);
    expect(traffic.requests).toBeGreaterThanOrEqual(REQUESTS);
    const wrong = traffic.classes.flatMap((t) => t.violations.map((v) => `${t.name}: ${v}`));
    expect(wrong, trafficTable(traffic)).toEqual([]);
    for (const t of traffic.classes) expect(t.sent, t.name).toBeGreaterThan(0);
    // wrangler dev's proxy may drop a connection the Worker answered early (a dev-server artifact:
    // its own text/plain 500); rare, and never a 5xx or an error of the Worker, as its log shows
    const dropped = traffic.classes.reduce((sum, t) => sum + t.dropped, 0);
    expect(dropped).toBeLessThanOrEqual(traffic.requests / 200);
    const workerLog = readFileSync(path.join(net.network.logDir, "worker.log"), "utf8");
    expect(workerLog.match(/\[wrangler:info\] \S+ \S+ 5\d\d .*/g) ?? []).toEqual([]);
    expect(workerLog.match(/"level":"error".*/g) ?? []).toEqual([]);
    // the one-client class spent its read limit and was told so
    const flood = traffic.classes.find((t) => t.name.includes("rate limit"));
    expect(flood?.byCode.get("RATE_LIMITED") ?? 0).toBeGreaterThan(0);
  });

  it("accepts every honest upload of the window under attack, each valid", async () => {
    expect(round.honest.map((o) => [o.miner.name, o.status, o.code ?? null])).toEqual(
      net.honest.map((m) => [m.name, 202, null]),
    );
    for (const m of net.honest) {
      const verdict = await until(`${m.name}'s verdict`, async () => {
        const res = await fetch(`${net.network.url}/v1/submissions/${round.window}/${m.uid}`);
        const { submission } = (await res.json()) as { submission: { status: string } };
        return submission.status === "received" ? null : submission.status;
      });
      expect(verdict, m.name).toBe("valid");
    }
  });

  it("writes no row for a request that did not prove its uid's hotkey; the honest records hold their uploads only", async () => {
    const refusals = await sql<{ uid: number; hotkey: string | null; window: number; code: string }>(
      "SELECT uid, hotkey, window, code FROM upload_refusals",
    );
    // every refusal row is the attacker's own, signed by its own hotkey, at most 16 a window
    for (const r of refusals) expect([r.uid, r.hotkey]).toEqual([net.attacker.uid, net.attacker.signer.address]);
    const perWindow = new Map<number, number>();
    for (const r of refusals) perWindow.set(r.window, (perWindow.get(r.window) ?? 0) + 1);
    for (const n of perWindow.values()) expect(n).toBeLessThanOrEqual(16);
    const subs = await sql<{ uid: number; hotkey: string; window: number }>(
      "SELECT uid, hotkey, window FROM submissions",
    );
    const honestRows = subs.filter((s) => net.honest.some((m) => m.uid === s.uid));
    expect(honestRows.map((s) => [s.uid, s.hotkey, s.window]).sort()).toEqual(
      net.honest.map((m) => [m.uid, m.signer.address, round.window]).sort(),
    );
    for (const m of net.honest) {
      const history = (await (await fetch(`${net.network.url}/v1/miners/${m.uid}/submissions`)).json()) as {
        submissions: unknown[];
        refusals: unknown[];
      };
      expect([history.submissions.length, history.refusals.length], m.name).toEqual([1, 0]);
    }
    // the refusals nobody authenticated are counted for the window, not written under a uid
    const report = (await (await fetch(`${net.network.url}/v1/windows/${round.window}`)).json()) as {
      refusals: Record<string, number>;
    };
    for (const code of [
      "SIGNATURE_MISSING",
      "SIGNATURE_INVALID",
      "HOTKEY_UNREGISTERED",
      "UID_MISMATCH",
      "SIGNATURE_REPLAYED",
    ])
      expect(report.refusals[code] ?? 0, code).toBeGreaterThan(0);
  });
});
