/** The dashboard's front page: current window, held-out bpb chart, per-window table, leaderboard. */
import { html, raw } from "hono/html";
import { ago, countdown, counts, fixed, percent, shortKey, utc } from "./figures.ts";
import { lineChart } from "./line-chart.ts";
import {
  type CurrentWindowView,
  type LeaderRowView,
  type OverviewView,
  PENALTY_WINDOWS,
  type WindowRowView,
} from "./overview-query.ts";
import { type Html, page } from "./page-layout.ts";

/** A countdown to `atMs` that the page's script keeps ticking. */
function timer(atMs: number, nowMs: number): Html {
  return html`<span class="countdown" data-countdown-to="${atMs}">${countdown(atMs - nowMs)}</span>`;
}

function currentCards(c: CurrentWindowView): Html {
  if (!c.head || c.window === null) {
    return html`<p class="muted" id="current-window">No chain head recorded yet: the cron has not read the chain.</p>`;
  }
  const put = c.putWindow;
  const putCard = put
    ? html`<div class="card" id="put-window" data-state="${put.state}">put window of ${put.window}
        <b>${put.state}</b>${
          put.state === "open"
            ? html`closes in ${timer(put.closesAtMs, c.nowMs)}`
            : put.state === "pending"
              ? html`opens in ${timer(put.opensAtMs, c.nowMs)}`
              : html`closed ${utc(put.closesAtMs)}`
        }</div>`
    : html`<div class="card" id="put-window">put window of ${c.window - 1}<b>not recorded</b></div>`;
  const next = c.nextPutWindow;
  const stale = c.freshness?.stale
    ? html`<p class="banner" id="chain-stale" role="alert">Chain head stale: no block newer than ${c.head.block}
        (made ${ago(c.freshness.age_ms)}). Put windows are not closed until the chain moves again; weights wait.</p>`
    : "";
  return html`${stale}<div class="cards" id="current-window" data-window="${c.window}">
  <div class="card">current window<b>${c.window}</b>head block ${c.head.block}, seen ${ago(c.nowMs - c.head.seenAtMs)}</div>
  ${putCard}
  ${
    next
      ? html`<div class="card">put window of ${next.window}<b>at block ${next.openingBlock}</b>opens in ~${timer(next.expectedOpensAtMs, c.nowMs)}</div>`
      : ""
  }
  <div class="card">checkpoint<b>${c.checkpointWindow === null ? "initial θ" : html`θ of window ${c.checkpointWindow}`}</b>${c.blocksPerWindow} blocks per window</div>
</div>`;
}

function windowRow(r: WindowRowView): Html {
  const bpb = r.bpbBefore === null && r.bpbAfter === null ? "—" : `${fixed(r.bpbBefore, 4)} → ${fixed(r.bpbAfter, 4)}`;
  return html`<tr data-window="${r.window}">
<td>${r.window}</td><td class="l">${r.state}</td><td class="wrap">${counts(r.submissions)}</td><td class="wrap">${counts(r.refusals)}</td>
<td>${r.copies}</td><td>${r.evaluated}${r.evalFailed ? html` <span class="muted">(${r.evalFailed} failed)</span>` : ""}</td><td>${bpb}</td>
</tr>`;
}

function lastPenalty(p: LeaderRowView["lastPenalty"]): Html | string {
  if (!p) return "—";
  const kinds = p.penalties.map((x) => `${x.kind} ×${fixed(x.factor, 2)}`).join(", ");
  const reasons = p.penalties.map((x) => x.reason).join("; ");
  return html`<span title="${reasons}">${kinds} (w ${p.window})</span>`;
}

function leaderRow(r: LeaderRowView, rank: number): Html {
  return html`<tr data-uid="${r.uid}">
<td>${rank}</td><td><a href="/miners/${r.uid}">${r.uid}</a></td><td class="l" title="${r.hotkey}">${shortKey(r.hotkey)}</td>
<td>${fixed(r.mu, 2)} / ${fixed(r.sigma, 2)}</td><td>${fixed(r.ordinal, 2)}</td><td>${fixed(r.evidence, 2)} (${percent(r.payFactor)})</td>
<td>${fixed(r.finalScore, 4)}</td><td>${percent(r.weight)}</td><td class="wrap">${lastPenalty(r.lastPenalty)}</td>
</tr>`;
}

/** A weight set's status and mode; for a timelocked one, its drand round, reveal epoch, and revealed or dropped. */
export function weightSetState(s: Extract<OverviewView["weightsFrom"], { kind: "set" }>): string {
  const mode = s.mode ?? "mode not chosen yet";
  if (s.mode !== "timelocked") return `${s.status}, ${mode}${s.setBlock !== null ? ` in block ${s.setBlock}` : ""}`;
  const outcome =
    s.status === "set"
      ? `revealed in block ${s.setBlock}`
      : s.status === "dropped"
        ? "dropped by the chain unrevealed"
        : s.status;
  return `timelocked to drand round ${s.revealRound ?? "?"}, reveal epoch from block ${s.revealEpochStartBlock ?? "?"}: ${outcome}`;
}

/** The front page. */
export function overviewPage(v: OverviewView): Html {
  const c = v.current;
  const weightsFrom =
    v.weightsFrom.kind === "set"
      ? `weights of the set after window ${v.weightsFrom.window} (${weightSetState(v.weightsFrom)})`
      : "weights as the validator would set them now (no weight set yet)";
  return page(
    "templar-edge dashboard",
    c.nowMs,
    html`<h1>templar-edge validator</h1>
<p class="sub">netuid ${c.netuid} · profile ${c.profile} · rendered ${utc(c.nowMs)}</p>
${currentCards(c)}
<h2>Held-out bpb after each outer step</h2>
${raw(lineChart(v.heldoutBpb, { label: "held-out bpb", yLabel: "bits per byte", digits: 3 }))}
<h2>Latest windows</h2>
<table id="windows">
<thead><tr><th>window</th><th class="l">state</th><th class="l">submissions</th><th class="l">refusals</th><th>copies</th><th>evaluated</th><th>held-out bpb before → after</th></tr></thead>
<tbody>${v.windows.map(windowRow)}</tbody>
</table>
<h2>Leaderboard</h2>
<p class="sub">${v.leaderboard.length} uids by rating (μ − 3σ; unrated last) · ${weightsFrom} · last penalty within ${PENALTY_WINDOWS} windows</p>
<table id="leaderboard">
<thead><tr><th>#</th><th>uid</th><th class="l">hotkey</th><th>μ / σ</th><th>rating</th><th>own-data evidence (pay)</th><th>final score</th><th>weight</th><th class="l">last penalty</th></tr></thead>
<tbody>${v.leaderboard.map((r, i) => leaderRow(r, i + 1))}</tbody>
</table>`,
  );
}
