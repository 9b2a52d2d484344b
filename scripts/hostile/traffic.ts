/**
 * Sends hostile traffic (attack-classes.ts) at a validator and checks every answer: never a
 * 5xx, never a hang, every refusal a JSON error body with a catalog code the class allows.
 * Each request comes from its own client address (CF-Connecting-IP, which `wrangler dev`
 * passes through as Cloudflare's edge would set it), except a class sent from one client to
 * spend its rate limit.
 */
import { isErrorCode } from "../../schema/errors.ts";
import { type Arena, ATTACK_CLASSES, type AttackClass, FLOOD_CLASS } from "./attack-classes.ts";

/** What one class's requests got. */
export interface ClassTally {
  readonly name: string;
  sent: number;
  readonly byStatus: Map<number, number>;
  readonly byCode: Map<string, number>;
  slowestMs: number;
  /**
   * Requests `wrangler dev`'s proxy dropped between client and Worker (its own text/plain 500,
   * or a closed socket): a dev-server artifact the Worker never sees as an error, counted apart.
   */
  dropped: number;
  /** Answers that break a rule, described (the first few of each class). */
  readonly violations: string[];
  violationCount: number;
}

export interface TrafficReport {
  readonly classes: readonly ClassTally[];
  readonly requests: number;
  readonly seconds: number;
  readonly violations: number;
}

export interface TrafficOptions {
  /** Requests of the classes sent in turn (the flood lane's come on top). */
  readonly requests: number;
  readonly concurrency: number;
  /** Concurrent senders of the one-client flood, for as long as the other classes run (0: none). */
  readonly floodConcurrency?: number;
  /** The arena as of now: overheard uploads grow while the traffic runs. */
  readonly arena: () => Arena;
  /** Called every `progressEvery` requests. */
  readonly progress?: (done: number, total: number) => void;
  readonly progressEvery?: number;
  /** A request not answered within this is a hang (a violation). */
  readonly timeoutMs?: number;
}

const ONE_CLIENT = "198.18.0.1";

/** The text/plain answer of wrangler dev's proxy when its connection to the Worker is lost. */
const DEV_PROXY_DROP = /^Error: Network connection lost\.$|restarted mid-request/;
/** A socket closed under the client (undici's words), as opposed to no answer in time. */
const SOCKET_CLOSED = /terminated|other side closed|ECONNRESET|socket hang up/;

/** A distinct private address per request: no ordinary class ever meets a rate limit. */
const clientAddress = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/**
 * Judges one answer by the class's rules: its refusal code, what is wrong with it, or that the
 * dev proxy dropped it. An upload answered after the put window closed may be refused as late,
 * whatever its class: on a slow machine the traffic outlasts the put window, and past its close
 * UPLOAD_TOO_LATE is the right answer to any upload into it.
 */
async function judge(
  cls: AttackClass,
  method: string,
  res: Response,
  putClosesAtMs: number,
): Promise<{ code?: string; wrong?: string; dropped?: boolean }> {
  const text = await res.text();
  if (res.status === 500 && DEV_PROXY_DROP.test(text)) return { dropped: true };
  if (res.status >= 500) return { wrong: `${res.status}: ${text.slice(0, 160)}` };
  if (res.status < 300) return cls.mayPass ? {} : { wrong: `${res.status}: a ${method} this class must never pass` };
  if (method === "HEAD") {
    // a HEAD answer has no body; its headers say it is the JSON refusal a GET gets
    const json = res.headers.get("Content-Type")?.includes("application/json");
    return json ? { code: `HEAD ${res.status}` } : { wrong: `HEAD ${res.status} without the JSON content type` };
  }
  let code: unknown;
  try {
    code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
  } catch {
    return { wrong: `${res.status} with a body that is not JSON: ${text.slice(0, 120)}` };
  }
  if (typeof code !== "string" || !isErrorCode(code))
    return { code: String(code), wrong: `${res.status}: no catalog code in ${text.slice(0, 120)}` };
  const lateAfterClose = code === "UPLOAD_TOO_LATE" && Date.now() > putClosesAtMs;
  if (!cls.refusals.includes(code) && !lateAfterClose)
    return { code, wrong: `${res.status} ${code}, not one of ${cls.refusals.join(", ")}: ${text.slice(0, 160)}` };
  return { code };
}

function emptyTally(name: string): ClassTally {
  return {
    name,
    sent: 0,
    byStatus: new Map(),
    byCode: new Map(),
    slowestMs: 0,
    dropped: 0,
    violations: [],
    violationCount: 0,
  };
}

/** Sends `requests` requests of the classes in turn, `concurrency` at a time, beside the flood lane. */
export async function sendHostileTraffic(opts: TrafficOptions): Promise<TrafficReport> {
  const classes = [...ATTACK_CLASSES, FLOOD_CLASS];
  const tallies = classes.map((cls) => emptyTally(cls.name));
  const every = opts.progressEvery ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let next = 0;
  let done = 0;
  let running = true;
  const started = performance.now();

  const send = async (k: number, n: number) => {
    const cls = classes[k] as AttackClass;
    const tally = tallies[k] as ClassTally;
    const arena = opts.arena();
    const req = cls.request(arena, tally.sent++);
    const headers = new Headers(req.init.headers);
    headers.set("CF-Connecting-IP", cls.oneClient ? ONE_CLIENT : clientAddress(n));
    const t0 = performance.now();
    let status = 0;
    let verdict: { code?: string; wrong?: string; dropped?: boolean };
    try {
      const res = await fetch(`${arena.url}${req.path}`, {
        ...req.init,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      verdict = await judge(cls, req.init.method, res, arena.putClosesAtMs);
    } catch (e) {
      const message = `${(e as Error).message} ${String((e as Error).cause ?? "")}`;
      verdict = SOCKET_CLOSED.test(message) ? { dropped: true } : { wrong: `no answer: ${message}` };
    }
    if (verdict.dropped) tally.dropped++;
    tally.slowestMs = Math.max(tally.slowestMs, performance.now() - t0);
    tally.byStatus.set(status, (tally.byStatus.get(status) ?? 0) + 1);
    if (verdict.code) tally.byCode.set(verdict.code, (tally.byCode.get(verdict.code) ?? 0) + 1);
    if (verdict.wrong) {
      tally.violationCount++;
      if (tally.violations.length < 5)
        tally.violations.push(`${req.init.method} ${req.path.slice(0, 80)}: ${verdict.wrong}`);
    }
    done++;
  };
  let inTurnDone = 0;
  const inTurn = async () => {
    for (let n = next++; n < opts.requests; n = next++) {
      await send(n % ATTACK_CLASSES.length, n);
      if (++inTurnDone % every === 0) opts.progress?.(inTurnDone, opts.requests);
    }
  };
  const flood = async () => {
    while (running) await send(ATTACK_CLASSES.length, 0);
  };
  const floods = Array.from({ length: opts.floodConcurrency ?? 0 }, flood);
  await Promise.all(Array.from({ length: opts.concurrency }, inTurn));
  running = false;
  await Promise.all(floods);
  return {
    classes: tallies,
    requests: done,
    seconds: (performance.now() - started) / 1000,
    violations: tallies.reduce((sum, t) => sum + t.violationCount, 0),
  };
}

/** The report as a table: one row per class, its answers by status and code. */
export function trafficTable(report: TrafficReport): string {
  const rows = report.classes.map((t) => {
    const statuses = [...t.byStatus]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(" ");
    const codes = [...t.byCode]
      .sort(([, a], [, b]) => b - a)
      .map(([c, n]) => `${c}×${n}`)
      .join(" ");
    return `| ${t.name} | ${t.sent} | ${statuses} | ${codes || "—"} | ${Math.round(t.slowestMs)} | ${t.dropped} | ${t.violationCount} |`;
  });
  const dropped = report.classes.reduce((sum, t) => sum + t.dropped, 0);
  return [
    "| class | requests | by status | by code | slowest ms | dropped by dev proxy | violations |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    `| all | ${report.requests} (${Math.round(report.requests / report.seconds)}/s) | | | | ${dropped} | ${report.violations} |`,
  ].join("\n");
}
