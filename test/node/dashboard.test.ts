// The dashboard in a real browser: Debian's Chromium, driven by playwright-core, opens the pages
// `wrangler dev` serves from a D1 seeded with eight scored windows of five uids, checks the
// leaderboard's order, the charts' points and that markup in a hotkey stays text, and saves
// screenshots (.artifacts/dashboard.png, .artifacts/dashboard-miner.png).

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byteModel } from "../../gpu-runner/model/family.ts";
import { transformerManifest } from "../../gpu-runner/model/transformer.ts";
import { getHparams } from "../../schema/hparams.ts";
import { MODEL_MANIFEST_KEY } from "../../schema/model/keys.ts";
import { wrangler } from "../../scripts/dev/wrangler-dev.ts";
import {
  DASHBOARD_FIRST_WINDOW,
  DASHBOARD_WINDOWS,
  dashboardFixtureSql,
  MARKUP_HOTKEY,
  RATING_ORDER,
} from "../shared/fixtures/dashboard.ts";
import { type LocalValidator, startLocalValidator } from "./support/local-validator.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = path.join(ROOT, ".artifacts");
const hparams = getHparams("local");
const available = existsSync(CHROMIUM);
if (!available) console.warn(`SKIPPED dashboard browser test: ${CHROMIUM} is absent (apt-get install chromium)`);

describe.skipIf(!available)("dashboard in headless Chromium", () => {
  let v: LocalValidator;
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    const manifest = new TextEncoder().encode(JSON.stringify(transformerManifest(byteModel(hparams, "this test"))));
    v = await startLocalValidator({ artifacts: new Map([[MODEL_MANIFEST_KEY, manifest]]) });
    const { window: w } = hparams;
    const seed = path.join(v.persist, "dashboard-seed.sql");
    writeFileSync(seed, dashboardFixtureSql(Date.now(), w.blocks_per_window, w.block_time_ms).join("\n"));
    await wrangler(["d1", "execute", "DB", "--file", seed], v.persist);
    // A fresh profile each run: no cache, no state from an earlier run.
    profile = mkdtempSync(path.join(tmpdir(), "chromium-profile-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await v?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("lists the seeded uids in rating order and draws a held-out bpb point per window", async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${v.url}/`);
    expect(res?.status()).toBe(200);
    const uids = await page
      .locator("#leaderboard tbody tr")
      .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-uid"))));
    expect(uids).toEqual(RATING_ORDER);
    const points = page.locator('svg[data-chart="held-out bpb"] circle.point');
    expect(await points.count()).toBe(DASHBOARD_WINDOWS);
    expect(await points.evaluateAll((cs) => cs.map((c) => Number(c.getAttribute("data-window"))))).toEqual(
      Array.from({ length: DASHBOARD_WINDOWS }, (_, i) => DASHBOARD_FIRST_WINDOW + i),
    );
    // Markup in a hotkey is text: the browser built no element from it.
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator('#leaderboard tr[data-uid="5"] td[title]').getAttribute("title")).toBe(MARKUP_HOTKEY);
    // The countdown script ticks (unless it already reached zero).
    const countdown = page.locator("#current-window .countdown").last();
    const before = await countdown.textContent();
    expect(before).toMatch(/^\d+:\d\d$|^\d+ h \d+ min$/);
    await page.waitForTimeout(2100);
    if (before !== "0:00") expect(await countdown.textContent()).not.toBe(before);
    const shot = path.join(SCREENSHOTS, "dashboard.png");
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);
  });

  it("opens a uid's page from the leaderboard and draws its final score per window", async () => {
    const page = await browser.newPage();
    await page.goto(`${v.url}/`);
    const top = RATING_ORDER[0] as number;
    await page.click(`#leaderboard a[href="/miners/${top}"]`);
    await page.waitForURL(`${v.url}/miners/${top}`);
    expect(await page.locator("h1").textContent()).toBe(`uid ${top}`);
    const points = page.locator(`svg[data-chart="final score of uid ${top}"] circle.point`);
    expect(await points.count()).toBe(DASHBOARD_WINDOWS);
    expect(await page.locator("#history tbody tr").count()).toBe(DASHBOARD_WINDOWS);
    const shot = path.join(SCREENSHOTS, "dashboard-miner.png");
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`uid page screenshot: ${shot}`);
  });
});
