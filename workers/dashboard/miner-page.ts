/**
 * The dashboard's page of one uid: its state and why it is paid what it is, its final score and
 * own-data evidence over windows, its history line by line.
 */
import { html, raw } from "hono/html";
import type { MinerRecord, ScoreLineRow } from "../scoring/miner-record.ts";
import { fixed, percent, utc } from "./figures.ts";
import { lineChart } from "./line-chart.ts";
import { type Html, page } from "./page-layout.ts";

function stateCards(v: MinerRecord): Html {
  const s = v.state;
  if (!s) return html`<p class="muted">No score state yet: the uid has not been scored.</p>`;
  return html`<p id="pay-explanation">${s.explanation}</p>
<div class="cards">
  <div class="card">final score<b>${fixed(s.finalScore, 4)}</b>after window ${s.updatedWindow}</div>
  <div class="card">own-data evidence<b>${fixed(s.evidence, 2)}</b>pays ${percent(s.payFactor)} of the score</div>
  <div class="card">rating μ − 3σ<b>${fixed(s.ordinal, 2)}</b>μ ${fixed(s.mu, 2)} / σ ${fixed(s.sigma, 2)}</div>
  <div class="card">BMA<b>${fixed(s.bma, 4)}</b>sync ${fixed(s.syncScore, 3)} (${fixed(s.stepsBehind, 1)} steps behind)</div>
  <div class="card">weight<b>${v.weight ? percent(v.weight.value) : "—"}</b>${
    v.weight ? `set after window ${v.weight.window} (${v.weight.status})` : "no weight set yet"
  }</div>
  <div class="card">copy ban<b>${s.banWindowsLeft ? `${s.banWindowsLeft} windows` : "none"}</b>${
    s.inactiveSince === null ? "active" : `inactive since window ${s.inactiveSince}`
  }</div>
</div>`;
}

function historyRow(l: ScoreLineRow): Html {
  const penalties = l.penalties.length
    ? l.penalties.map((p) => `${p.kind} ×${fixed(p.factor, 2)}: ${p.reason}`).join("; ")
    : "—";
  return html`<tr data-window="${l.window}">
<td>${l.window}</td><td class="l">${l.outcome}${l.code ? html` <span class="muted">${l.code}</span>` : ""}</td>
<td>${fixed(l.gradientScore, 4)}</td><td>${fixed(l.ownImprovement, 4)} / ${fixed(l.randomImprovement, 4)}</td>
<td>${l.indicator ?? "—"}${l.indicatorT === null ? "" : ` (t ${fixed(l.indicatorT, 2)})`}</td>
<td>${fixed(l.evidence, 2)}</td><td>${percent(l.payFactor)}</td>
<td>${fixed(l.syncScore, 3)}</td><td>${fixed(l.bmaBefore, 4)} → ${fixed(l.bma, 4)}</td>
<td>${fixed(l.mu, 2)} / ${fixed(l.sigma, 2)}</td><td>${fixed(l.ordinal, 2)}</td>
<td>${fixed(l.finalBefore, 4)} → ${fixed(l.finalScore, 4)}</td><td class="wrap">${penalties}</td>
</tr>`;
}

/** A uid's page. */
export function minerPageView(v: MinerRecord, nowMs: number): Html {
  const points = v.lines.map((l) => ({ window: l.window, value: l.finalScore }));
  const evidence = v.lines.map((l) => ({ window: l.window, value: l.evidence }));
  return page(
    `uid ${v.uid} · templar-edge`,
    nowMs,
    html`<h1>uid ${v.uid}</h1>
<p class="sub" title="${v.hotkey ?? ""}">${v.hotkey ?? "unknown hotkey"} · ${v.registered ? "registered" : "not in the metagraph"} · rendered ${utc(nowMs)}</p>
${stateCards(v)}
<h2>Final score over windows</h2>
${raw(lineChart(points, { label: `final score of uid ${v.uid}`, yLabel: "final score", digits: 4 }))}
<h2>Own-data evidence over windows</h2>
<p class="muted">How many standard errors its own samples improve by more than random ones, accumulated over its evaluations (docs/SPEC.md §2.5).</p>
${raw(lineChart(evidence, { label: `own-data evidence of uid ${v.uid}`, yLabel: "evidence (σ)", digits: 2 }))}
<h2>History (newest first, ${v.lines.length} windows)</h2>
<table id="history">
<thead><tr><th>window</th><th class="l">outcome</th><th>gradient score</th><th>own / random improvement</th><th>indicator</th><th>evidence</th><th>pay</th><th>sync</th><th>BMA</th><th>μ / σ</th><th>rating</th><th>final score</th><th class="l">penalties</th></tr></thead>
<tbody>${v.lines.map(historyRow)}</tbody>
</table>`,
  );
}

/** The page for a uid the validator has no record of. */
export function unknownMinerPage(uid: number, nowMs: number): Html {
  return page(
    `uid ${uid} · templar-edge`,
    nowMs,
    html`<h1>uid ${uid}</h1><p>The validator has no record of uid ${uid}.</p>`,
  );
}
