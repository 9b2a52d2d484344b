// The dashboard pages, served by the Worker in workerd over a seeded history (test/shared/fixtures/
// dashboard.ts, seeded before each test), and its SVG line chart.
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { getHparams } from "../../schema/hparams.ts";
import { lineChart } from "../../workers/dashboard/line-chart.ts";
import {
  DASHBOARD_BPB,
  DASHBOARD_FIRST_WINDOW,
  DASHBOARD_WINDOWS,
  dashboardFixtureSql,
  MARKUP_HOTKEY,
  RATING_ORDER,
} from "../shared/fixtures/dashboard.ts";

const { window: w } = getHparams("local");

/** The values of `attr` on the elements of `html` that carry it, in document order. */
function attrs(html: string, attr: string): string[] {
  return [...html.matchAll(new RegExp(`${attr}="([^"]*)"`, "g"))].map((m) => m[1] as string);
}

/** The markup of the element carrying `attr` (e.g. `id="x"`), up to its closing tag `tag`. */
function section(html: string, attr: string, tag: string): string {
  const start = html.indexOf(attr);
  expect(start, `no element with ${attr}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf(`</${tag}>`, start));
}

describe("dashboard", () => {
  beforeEach(async () => {
    const statements = dashboardFixtureSql(Date.now(), w.blocks_per_window, w.block_time_ms);
    await env.DB.batch(statements.map((s) => env.DB.prepare(s)));
  });

  it("renders the leaderboard in rating order, a bpb point per window, and the latest windows", async () => {
    const res = await exports.default.fetch("http://edge/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await res.text();
    expect(attrs(section(page, 'id="leaderboard"', "table"), "data-uid").map(Number)).toEqual(RATING_ORDER);
    const chart = section(page, 'data-chart="held-out bpb"', "svg");
    expect(attrs(chart, "data-value").map(Number)).toEqual(DASHBOARD_BPB);
    expect(attrs(chart, "data-window").map(Number)).toEqual(
      Array.from({ length: DASHBOARD_WINDOWS }, (_, i) => DASHBOARD_FIRST_WINDOW + i),
    );
    // The current window (after the last seeded one) and every seeded window, newest first.
    const rows = attrs(section(page, 'id="windows"', "table"), "data-window").map(Number);
    expect(rows[0]).toBe(DASHBOARD_FIRST_WINDOW + DASHBOARD_WINDOWS);
    expect(rows.slice(1)).toEqual(
      Array.from({ length: DASHBOARD_WINDOWS }, (_, i) => DASHBOARD_FIRST_WINDOW + DASHBOARD_WINDOWS - 1 - i),
    );
    expect(page).toContain(`id="current-window" data-window="${DASHBOARD_FIRST_WINDOW + DASHBOARD_WINDOWS}"`);
    // Each uid's newest penalty (the seed's verdicts: uid 3 copied in window 46, uid 12 invalid in 45).
    expect(section(page, 'data-uid="3"', "tr")).toContain("copy_mega ×0.00 (w 46)");
    expect(section(page, 'data-uid="12"', "tr")).toContain("invalid ×0.00 (w 45)");
    expect(section(page, 'data-uid="7"', "tr")).not.toContain("(w ");
  });

  it("says how the newest weight set goes on chain: its mode and, timelocked, its round, reveal epoch and outcome", async () => {
    const insert = (window: number, extra: string) =>
      env.DB.prepare(
        `INSERT INTO weight_sets (window, netuid, uids, weights, "values", gather, reserve, version_key, status, mode,
           reveal_round, reveal_epoch_start_block, set_block, attempts, next_attempt_at_ms, created_at_ms, updated_at_ms)
         VALUES (?, 2, '[7]', '[1]', '[65535]', '[]', '[]', '0', ${extra}, 0, 0, 0, 0)`,
      )
        .bind(window)
        .run();
    await insert(9000, `'timelocked', 'timelocked', 1000, 300, NULL`);
    expect(await (await exports.default.fetch("http://edge/")).text()).toContain(
      "weights of the set after window 9000 (timelocked to drand round 1000, reveal epoch from block 300: timelocked)",
    );
    await env.DB.prepare("UPDATE weight_sets SET status = 'set', set_block = 302 WHERE window = 9000").run();
    expect(await (await exports.default.fetch("http://edge/")).text()).toContain(
      "(timelocked to drand round 1000, reveal epoch from block 300: revealed in block 302)",
    );
    await insert(9001, `'dropped', 'timelocked', 2000, 400, NULL`);
    expect(await (await exports.default.fetch("http://edge/")).text()).toContain(
      "(timelocked to drand round 2000, reveal epoch from block 400: dropped by the chain unrevealed)",
    );
    await insert(9002, `'set', 'direct', NULL, NULL, 500`);
    expect(await (await exports.default.fetch("http://edge/")).text()).toContain(
      "weights of the set after window 9002 (set, direct in block 500)",
    );
  });

  it("escapes every value: a hotkey with markup is text, in content and attributes", async () => {
    const page = await (await exports.default.fetch("http://edge/")).text();
    expect(page).not.toContain("<img");
    expect(page).toContain("&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;Hk");
    const miner = await (await exports.default.fetch("http://edge/miners/5")).text();
    expect(miner).not.toContain(MARKUP_HOTKEY);
    expect(miner).toContain("&lt;img");
  });

  it("draws a uid's final score over windows and lists its history line by line", async () => {
    const res = await exports.default.fetch("http://edge/miners/7");
    expect(res.status).toBe(200);
    const page = await res.text();
    const windows = Array.from({ length: DASHBOARD_WINDOWS }, (_, i) => DASHBOARD_FIRST_WINDOW + i);
    expect(attrs(section(page, 'data-chart="final score of uid 7"', "svg"), "data-window").map(Number)).toEqual(
      windows,
    );
    expect(attrs(section(page, 'id="history"', "table"), "data-window").map(Number)).toEqual([...windows].reverse());
  });

  it("answers an unknown uid with an HTML 404, and leaves the API's 404 as JSON", async () => {
    const res = await exports.default.fetch("http://edge/miners/999");
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("no record of uid 999");
    const api = await exports.default.fetch("http://edge/v1/nope");
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});

describe("lineChart", () => {
  it("draws one point per finite value, in window order, with its value in the title", () => {
    const svg = lineChart(
      [
        { window: 9, value: 2 },
        { window: 3, value: 1 },
        { window: 5, value: Number.NaN },
      ],
      { label: "t<est>", yLabel: "bpb" },
    );
    expect(attrs(svg, "data-window")).toEqual(["3", "9"]);
    expect(svg).toContain('aria-label="t&#60;est&#62;"');
    expect(svg).toContain("<title>window 9: bpb 2.000</title>");
    // Lower values sit lower: a larger y coordinate.
    const cy = attrs(svg, "cy").map(Number);
    expect(cy[0]).toBeGreaterThan(cy[1] as number);
  });

  it("says so when there is nothing to draw", () => {
    expect(lineChart([], { label: "empty", yLabel: "x" })).toContain("no data yet");
  });
});
