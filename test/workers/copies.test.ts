// Copy detection end to end in workerd: uploads in one put window, the window clock's tick after
// it closes (seed block from the fake chain), fingerprints through the real queue, then flags.
// Put windows open and close by editing their rows, not by a test clock: the queue consumer (copy
// detection among its work) runs on the Worker's own clock (Date.now), which a test cannot move.
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { WindowReportJson } from "../../schema/api/public.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { encodeGradient } from "../../schema/codec/encode.ts";
import type { FormatVersion } from "../../schema/codec/format-version.ts";
import { copyFlags, windows } from "../../schema/db/index.ts";
import { workerContext } from "../../workers/context.ts";
import { detectWindowCopies } from "../../workers/copies/detect-window-copies.ts";
import { type ChainReport, windowTick } from "../../workers/cron/window-tick.ts";
import { buildGradient, HPARAMS, IDENTITY, rng, TEST_MANIFEST } from "../shared/fixtures/gradients.ts";
import { FakeChain } from "./support/fake-chain.ts";
import { type Miner, miner, NETUID, uploadHeaders } from "./support/miners.ts";
import { BPW, db, publishManifest, recordPutWindow, registerMiners, testApp, verdictOf } from "./support/world.ts";

const alice = miner(20, "copy-alice");
const bob = miner(21, "copy-bob");
const carol = miner(22, "copy-carol"); // re-uploads alice's tensors under her own metadata
const dave = miner(23, "copy-dave"); // alice's gradient plus 1% noise, re-encoded
const erin = miner(24, "copy-erin"); // replays her own gradient of the previous window
const frank = miner(25, "copy-frank"); // alice's gradient written in format version 1 (hers is 2)
const everyone = [alice, bob, carol, dave, erin, frank];

const identity = (m: Miner, window: number) => ({ ...IDENTITY, netuid: NETUID, window, uid: m.uid, hotkey: m.hotkey });
const layouts = gradientLayout(TEST_MANIFEST, HPARAMS.compression);

/** Encodes `gradient` as `m`'s upload for `window` (format version 2 unless told). */
function encodeAs(
  m: Miner,
  window: number,
  gradient: Float32Array,
  parameters: Float32Array,
  formatVersion: FormatVersion = 2,
): Uint8Array {
  const { compression, sync } = HPARAMS;
  return encodeGradient({
    identity: identity(m, window),
    gradient,
    parameters,
    layouts,
    compression,
    sync,
    formatVersion,
  }).file;
}

describe("copy detection", () => {
  const W = 600;
  // The opening block of W's put window is at now − 1 s; blocks every 3 s.
  const opensAt = Date.now() - 1000;
  const chain = new FakeChain({ headNumber: (W + 1) * BPW + 1, anchor: { number: (W + 1) * BPW, atMs: opensAt } });
  const app = testApp(chain);

  async function upload(m: Miner, window: number, file: Uint8Array): Promise<void> {
    const res = await app.call(`/v1/gradients/${window}/${m.uid}`, {
      method: "PUT",
      body: file,
      headers: { ...uploadHeaders(m, window, file), "Content-Length": String(file.length) },
    });
    expect(res.status).toBe(202);
    expect((await verdictOf(app, window, m.uid)).status).toBe("valid");
  }

  beforeEach(async () => {
    await publishManifest();
    await registerMiners(everyone, chain);
  });

  it("flags exact, noisy and replayed copies with the later receipt as offender, and no honest miner", async () => {
    // Window W−1: erin's own gradient, the one she replays in W. Its put window closed before W's.
    await recordPutWindow(W - 1, -60_000, -42_000);
    await db
      .update(windows)
      .set({ putOpensAtMs: Date.now() - 1000, putClosesAtMs: Date.now() + 60_000 })
      .where(eq(windows.window, W - 1));
    const erinOld = buildGradient(7, TEST_MANIFEST, HPARAMS, identity(erin, W - 1));
    await upload(erin, W - 1, erinOld.file);
    await db
      .update(windows)
      .set({ putOpensAtMs: Date.now() - 60_000, putClosesAtMs: Date.now() - 42_000 })
      .where(eq(windows.window, W - 1));

    await recordPutWindow(W, opensAt - Date.now(), 120_000);
    const honest = buildGradient(1, TEST_MANIFEST, HPARAMS, identity(alice, W));
    await upload(alice, W, honest.file);
    await upload(bob, W, buildGradient(2, TEST_MANIFEST, HPARAMS, identity(bob, W)).file);
    await upload(carol, W, encodeAs(carol, W, honest.gradient, honest.parameters));
    const next = rng(99);
    const noisy = honest.gradient.map((v) => v * (1 + 0.01 * (next() - 0.5)));
    await upload(dave, W, encodeAs(dave, W, noisy, honest.parameters));
    await upload(erin, W, encodeAs(erin, W, erinOld.gradient, erinOld.parameters));
    await upload(frank, W, encodeAs(frank, W, honest.gradient, honest.parameters, 1));

    // The put window closes; the chain moves past it: the tick finds the seed block (the first one
    // after the close, blocks being 3 s apart from the opening) and queues fingerprints.
    const closesAt = Date.now() - 1;
    await db.update(windows).set({ putClosesAtMs: closesAt }).where(eq(windows.window, W));
    const seed = (W + 1) * BPW + Math.floor((closesAt - opensAt) / 3000) + 1;
    chain.headNumber = seed + 2;
    const report = await windowTick(workerContext(env, () => chain));
    expect((report.chain as ChainReport).seedBlocks).toContainEqual({ window: W, block: seed });
    expect(report.fingerprintsQueued).toBe(7); // six in W, erin's old one in W − 1

    await vi.waitUntil(
      async () => (await db.select().from(windows).where(eq(windows.window, W)).get())?.state === "validated",
      { timeout: 20_000, interval: 200 },
    );
    const flags = await db.select().from(copyFlags).where(eq(copyFlags.window, W));
    const byOffender = (m: Miner) => flags.filter((f) => f.offenderUid === m.uid);
    expect(byOffender(alice)).toEqual([]);
    expect(byOffender(bob)).toEqual([]);
    expect(byOffender(carol)).toContainEqual(
      expect.objectContaining({ kind: "exact", originalUid: alice.uid, originalWindow: W, overlap: 1, grade: "mega" }),
    );
    const near = byOffender(dave).find((f) => f.originalUid === alice.uid);
    expect(near).toMatchObject({ kind: "near", grade: "mega" });
    expect(near?.overlap).toBeGreaterThan(0.6);
    // Another version's bytes hide an exact copy from the digest, not from the index overlap:
    // the fingerprint decodes v1 and v2 chunks (ranged reads of different lengths) to the same sets.
    expect(byOffender(frank)).toContainEqual(
      expect.objectContaining({ kind: "near", originalUid: alice.uid, originalWindow: W, overlap: 1, grade: "mega" }),
    );
    expect(byOffender(erin)).toContainEqual(
      expect.objectContaining({ kind: "exact", originalUid: erin.uid, originalWindow: W - 1 }),
    );
    // honest pairs sit far below the threshold: alice and bob are independent gradients
    expect(flags.some((f) => [f.offenderUid, f.originalUid].sort().join() === [alice.uid, bob.uid].sort().join())).toBe(
      false,
    );

    expect(await verdictOf(app, W, alice.uid)).toMatchObject({ status: "valid", format_version: 2 });
    expect(await verdictOf(app, W, carol.uid)).toMatchObject({ status: "copied", error: { code: "COPY_EXACT" } });
    expect(await verdictOf(app, W, dave.uid)).toMatchObject({ status: "copied", error: { code: "COPY_NEAR" } });
    expect(await verdictOf(app, W, erin.uid)).toMatchObject({ status: "copied", error: { code: "COPY_EXACT" } });
    // The window report counts the validated files by version: frank's v1 beside five v2.
    const windowReport = (await (await app.call(`/v1/windows/${W}`)).json()) as WindowReportJson;
    expect(windowReport.format_versions).toEqual({ "1": 1, "2": 5 });
    expect(await verdictOf(app, W, frank.uid)).toMatchObject({
      status: "copied",
      error: { code: "COPY_NEAR" },
      format_version: 1,
    });

    // Detection runs again (the queue and the cron both trigger it): it changes nothing and logs nothing.
    const lines: string[] = [];
    const keep = (line: string) => void lines.push(line);
    const spies = [
      vi.spyOn(console, "log").mockImplementation(keep),
      vi.spyOn(console, "warn").mockImplementation(keep),
    ];
    const again = await detectWindowCopies(
      workerContext(env, () => chain),
      W,
    );
    for (const s of spies) s.mockRestore();
    expect(again.state).toBe("done");
    expect(lines.filter((l) => /"event":"cop(y|ies)\./.test(l))).toEqual([]);
  });
});
