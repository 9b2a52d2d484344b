// The window lifecycle as a table, on real D1 in workerd: every transition from every state
// (legal ones succeed once with the rows they imply, illegal ones are refused with a stable code
// and write nothing), each transition's condition, and two writers racing for one transition.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import architecture from "../../docs/ARCHITECTURE.md?raw";
import { WINDOW_STATES, type WindowState } from "../../schema/db/index.ts";
import {
  commitTransition,
  type TransitionRule,
  tryTransition,
  WINDOW_TRANSITIONS,
  type WindowTransition,
  windowState,
  windowsReadyFor,
} from "../../workers/windows/window-lifecycle.ts";

const NOW = 1_800_000_000_000;
const ctx = { d1: env.DB, now: () => NOW };
const W = 40;
const NAMES = Object.keys(WINDOW_TRANSITIONS) as WindowTransition[];
const rule = (name: WindowTransition): TransitionRule => WINDOW_TRANSITIONS[name];
const startsFrom = (name: WindowTransition, state: WindowState) => rule(name).from.includes(state);

/**
 * Records window `window` in `state`, its put window closed a second ago unless told otherwise,
 * and a chain head made just now (past that close) unless `headAtMs` says otherwise.
 */
async function seed(
  window: number,
  state: WindowState,
  putClosesAtMs = NOW - 1000,
  headAtMs: number | null = NOW,
): Promise<void> {
  if (headAtMs !== null)
    await env.DB.prepare(
      `INSERT INTO chain_head (id, block, hash, timestamp_ms, seen_at_ms) VALUES (1, ?, '0x00', ?, ?)
       ON CONFLICT (id) DO UPDATE SET timestamp_ms = excluded.timestamp_ms`,
    )
      .bind(window * 20 + 25, headAtMs, NOW)
      .run();
  await env.DB.prepare(
    `INSERT INTO windows (window, start_block, end_block, put_opens_at_ms, put_closes_at_ms, state, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, 0)`,
  )
    .bind(window, window * 20, window * 20 + 19, putClosesAtMs - 18_000, putClosesAtMs, state)
    .run();
}

async function batch(
  window: number,
  kind: "evaluate" | "advance",
  state: "pending" | "leased" | "done",
): Promise<void> {
  await env.DB.prepare("INSERT INTO evaluation_batches (window, kind, state, created_at_ms) VALUES (?, ?, ?, 0)")
    .bind(window, kind, state)
    .run();
}

/** A row the transition implies (an admin_actions row naming it): written with the transition or not at all. */
const implied = (name: string) =>
  env.DB.prepare("INSERT INTO admin_actions (action, window, reason, at_ms) VALUES ('rerun_evaluation', ?, ?, ?)").bind(
    W,
    `implied by ${name}`,
    NOW,
  );
const impliedRows = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM admin_actions").first<{ n: number }>())?.n;
const transitions = async () =>
  (
    await env.DB.prepare(
      "SELECT seq, transition, from_state, to_state, at_ms FROM window_transitions WHERE window = ? ORDER BY seq",
    )
      .bind(W)
      .all()
  ).results;

const cases = NAMES.flatMap((name) => WINDOW_STATES.map((state) => ({ name, state })));
const legal = cases.filter((c) => startsFrom(c.name, c.state));
const illegal = cases.filter((c) => !startsFrom(c.name, c.state));

describe("each legal transition", () => {
  it("covers every transition and every state", () => {
    expect(new Set(legal.map((c) => c.name))).toEqual(new Set(NAMES));
    expect(legal.length + illegal.length).toBe(NAMES.length * WINDOW_STATES.length);
  });

  it.each(legal)("$name from $state succeeds once, with the rows it implies", async ({ name, state }) => {
    await seed(W, state);
    const read = await windowState(env.DB, W);
    expect(read).toEqual({ state, seq: 0 });
    expect(await windowsReadyFor(ctx, name)).toEqual([W]);

    const [result] = await commitTransition(ctx, name, W, [implied(name)], { expectSeq: read?.seq });
    expect(result?.meta.changes).toBe(1);
    expect(await windowState(env.DB, W)).toEqual({ state: rule(name).to, seq: 1 });
    expect(await transitions()).toEqual([
      { seq: 1, transition: name, from_state: state, to_state: rule(name).to, at_ms: NOW },
    ]);
    expect(await impliedRows()).toBe(1);

    // Once: the same attempt on what was read before is refused, and writes nothing…
    await expect(commitTransition(ctx, name, W, [implied(name)], { expectSeq: read?.seq })).rejects.toMatchObject({
      code: "WINDOW_STATE_CONFLICT",
    });
    // …and so is any attempt at all where the transition does not start from where it ends.
    if (!startsFrom(name, rule(name).to))
      await expect(commitTransition(ctx, name, W, [implied(name)])).rejects.toMatchObject({
        code: "WINDOW_STATE_CONFLICT",
        details: { state: rule(name).to },
      });
    expect(await impliedRows()).toBe(1);
    expect(await transitions()).toHaveLength(1);
  });
});

describe("each illegal transition", () => {
  it.each(illegal)(
    "$name from $state is refused with WINDOW_STATE_CONFLICT, nothing written",
    async ({ name, state }) => {
      await seed(W, state);
      expect(await windowsReadyFor(ctx, name)).toEqual([]);
      const refused = commitTransition(ctx, name, W, [implied(name)]);
      await expect(refused).rejects.toMatchObject({
        code: "WINDOW_STATE_CONFLICT",
        message: `window ${W} is ${state}; ${name} starts from ${rule(name).from.join(" or ")}`,
        details: { window: W, transition: name, state },
      });
      expect(await tryTransition(ctx, name, W, [implied(name)])).toBeNull();
      expect(await windowState(env.DB, W)).toEqual({ state, seq: 0 });
      expect(await transitions()).toEqual([]);
      expect(await impliedRows()).toBe(0);
    },
  );

  it("on a window never recorded", async () => {
    await expect(commitTransition(ctx, "close_put", W, [implied("close_put")])).rejects.toMatchObject({
      code: "WINDOW_STATE_CONFLICT",
      message: `window ${W} is not recorded`,
    });
    expect(await impliedRows()).toBe(0);
  });
});

describe("conditions", () => {
  /** `name` on W is refused as not yet due, is not ready, and writes nothing. */
  async function notYet(name: WindowTransition, state: WindowState) {
    expect(await windowsReadyFor(ctx, name)).not.toContain(W);
    await expect(commitTransition(ctx, name, W, [implied(name)])).rejects.toMatchObject({
      code: "WINDOW_STATE_CONFLICT",
      message: `window ${W} is ${state}, but not yet: ${rule(name).whenText}`,
    });
    expect(await windowState(env.DB, W)).toEqual({ state, seq: 0 });
    expect(await impliedRows()).toBe(0);
  }

  it("close_put waits for the put window to close", async () => {
    await seed(W, "put_open", NOW + 5000);
    await notYet("close_put", "put_open");
  });

  it("close_put waits for a recorded head past the close: never on a stale head, whatever the wall clock", async () => {
    // The put window closed a minute ago by the Worker's clock, but the newest block the
    // validator saw was made before the close (the chain stalled): it stays open.
    await seed(W, "put_open", NOW - 60_000, NOW - 61_000);
    await notYet("close_put", "put_open");
    await seed(W + 1, "put_open", NOW - 60_000, null);
    await env.DB.prepare("DELETE FROM chain_head").run();
    expect(await windowsReadyFor(ctx, "close_put")).toEqual([]); // no head recorded at all
    // A block past the close is seen: both close.
    await seed(W + 2, "put_open", NOW - 60_000, NOW - 59_000);
    expect(await windowsReadyFor(ctx, "close_put")).toEqual([W, W + 1, W + 2]);
  });

  it("dispatch and skip_evaluation wait for the outer step of the window before (θ_S)", async () => {
    await seed(W, "validated");
    await batch(W - 1, "advance", "leased");
    await notYet("dispatch", "validated");
    await notYet("skip_evaluation", "validated");
  });

  it("complete waits for every evaluation batch of the window", async () => {
    await seed(W, "evaluating");
    await batch(W, "evaluate", "done");
    await batch(W, "evaluate", "pending");
    await notYet("complete", "evaluating");
  });

  it("score waits for every earlier window still being validated or evaluated", async () => {
    await seed(W, "evaluated");
    await seed(W - 3, "evaluating");
    await notYet("score", "evaluated");
    expect(await windowState(env.DB, W - 3)).toEqual({ state: "evaluating", seq: 0 });
  });
});

describe("two concurrent attempts at the same transition", () => {
  it.each(legal)("$name from $state: exactly one wins", async ({ name, state }) => {
    await seed(W, state);
    const read = await windowState(env.DB, W);
    // Where a transition can repeat itself (rerun), the writers compare-and-set on what they read.
    const options = startsFrom(name, rule(name).to) ? { expectSeq: read?.seq } : {};
    const outcomes = await Promise.allSettled([
      commitTransition(ctx, name, W, [implied(name)], options),
      commitTransition(ctx, name, W, [implied(name)], options),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const [lost] = outcomes.filter((o) => o.status === "rejected") as PromiseRejectedResult[];
    expect(lost?.reason).toMatchObject({ code: "WINDOW_STATE_CONFLICT" });
    expect(await transitions()).toHaveLength(1);
    expect(await impliedRows()).toBe(1);
  });
});

describe("docs/ARCHITECTURE.md", () => {
  it("lists every transition with the states it goes from and to", () => {
    const rows = new Map(
      [...architecture.matchAll(/^\| `([a-z_]+)` \| ([a-z_, ]+) \| ([a-z_]+) \|/gm)].map((m) => [
        m[1],
        { from: m[2]?.split(", "), to: m[3] },
      ]),
    );
    expect(rows).toEqual(new Map(NAMES.map((name) => [name, { from: [...rule(name).from], to: rule(name).to }])));
  });
});
