/**
 * The shell of every dashboard page: head, styles, navigation, and the few lines of script that
 * run countdowns. Every value goes through hono/html's `html`, which escapes it.
 */
import { html, raw } from "hono/html";

/** Markup built by hono/html (escaped values, nested markup kept as is). */
export type Html = ReturnType<typeof html>;

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#1d2329;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
a{color:#0b5cad;text-decoration:none}a:hover{text-decoration:underline}
.sub{color:#5b6670;margin:0 0 16px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #dde3e8;border-radius:6px;padding:10px 14px;min-width:180px}
.card b{display:block;font-size:18px}
table{border-collapse:collapse;width:100%;background:#fff;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e6eaee;padding:4px 8px;text-align:right;white-space:nowrap}
th{background:#f1f4f6;position:sticky;top:0}
td.l,th.l{text-align:left}td.wrap{white-space:normal;text-align:left}
.chart{background:#fff;border:1px solid #dde3e8;border-radius:6px;max-width:100%;height:auto}
.chart .axis{stroke:#8a949c}.chart .grid{stroke:#eef1f3}.chart .tick,.chart .axis-label{font-size:11px;fill:#5b6670}
.chart .line{stroke:#0b5cad;stroke-width:1.5}.chart .point{fill:#0b5cad}.chart .empty{fill:#8a949c}
.muted{color:#8a949c}
.banner{background:#fdecea;border:1px solid #e0a39b;border-radius:6px;padding:10px 14px;color:#8a1f11;font-weight:600}
`;

// Countdowns tick against the server's clock: the offset is taken once when the page loads.
const COUNTDOWN_SCRIPT = `
const skew = Number(document.body.dataset.now) - Date.now();
const tick = () => { for (const el of document.querySelectorAll("[data-countdown-to]")) {
  const s = Math.max(0, Math.round((Number(el.dataset.countdownTo) - Date.now() - skew) / 1000));
  el.textContent = s >= 3600 ? Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min" : Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
} };
tick(); setInterval(tick, 1000);
`;

/** A complete page around `body`; `nowMs` is the server's clock, for the countdowns. */
export function page(title: string, nowMs: number, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${raw(STYLE)}</style>
</head>
<body data-now="${nowMs}">
<nav class="sub"><a href="/">templar-edge dashboard</a> · <a href="/v1/windows/current">/v1/windows/current</a> · <a href="/v1/weights/latest">/v1/weights/latest</a></nav>
${body}
<script>${raw(COUNTDOWN_SCRIPT)}</script>
</body>
</html>`;
}
