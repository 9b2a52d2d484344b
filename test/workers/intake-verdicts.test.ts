// Every corruption class of the codec, uploaded with a valid signature, gets its own verdict code
// from the validation consumer (real queue delivery in workerd).
import { beforeAll, describe, expect, it } from "vitest";
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";
import { IDENTITY, rng } from "../shared/fixtures/gradients.ts";
import { baseFor, CLASSES } from "../shared/fixtures/mutations.ts";
import { miner, NETUID, uploadHeaders } from "./support/miners.ts";
import {
  chainAtPutWindow,
  publishManifest,
  recordPutWindow,
  registerMiners,
  testApp,
  verdictOf,
} from "./support/world.ts";

const erin = miner(7, "erin");
const identity = { ...IDENTITY, netuid: NETUID, uid: erin.uid, hotkey: erin.hotkey };
const app = testApp(chainAtPutWindow(300));

// Each case has its own window, so they run concurrently (each waits on real queue delivery, up to
// the consumer's 1 s batch timeout). Concurrent tests are not reset one by one (setup/apply-
// migrations.ts): they share the manifest and the miner seeded once below, and nothing else.
describe.concurrent("validation consumer verdicts", () => {
  beforeAll(async () => {
    await publishManifest();
    await registerMiners([erin]);
  });

  // METADATA_MISMATCH comes from the signed upload rather than from the file: see the last test.
  const classes = Object.entries(CLASSES).filter(([, m]) => m.code !== "METADATA_MISMATCH");

  it.each(classes.map(([name, m], i) => ({ name, code: m.code, make: m.make, window: 300 + i })))(
    "$code: $name",
    async ({ code, make, window }) => {
      await recordPutWindow(window, -1000, 60_000);
      const { file, options } = make(rng(window), baseFor(window, undefined, { ...identity, window }));
      expect(options).toBeUndefined();
      const res = await app.call(`/v1/gradients/${window}/${erin.uid}`, {
        method: "PUT",
        body: file,
        headers: { ...uploadHeaders(erin, window, file), "Content-Length": String(file.length) },
      });
      expect(res.status).toBe(202);
      const verdict = await verdictOf(app, window, erin.uid);
      expect(verdict.status).toBe("invalid");
      expect(verdict.error?.code as ErrorCode).toBe(code);
      expect(new EdgeError(code, "").status).toBe(422);
    },
  );

  it("METADATA_MISMATCH: a file whose metadata names another uid than the signed upload", async () => {
    const window = 399;
    await recordPutWindow(window, -1000, 60_000);
    const { file } = baseFor(window, undefined, { ...identity, window, uid: erin.uid + 1 });
    const res = await app.call(`/v1/gradients/${window}/${erin.uid}`, {
      method: "PUT",
      body: file,
      headers: { ...uploadHeaders(erin, window, file), "Content-Length": String(file.length) },
    });
    expect(res.status).toBe(202);
    expect(await verdictOf(app, window, erin.uid)).toMatchObject({
      status: "invalid",
      error: { code: "METADATA_MISMATCH" },
    });
  });
});
