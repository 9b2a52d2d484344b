// The reference miner: real gradients lower the loss on the miner's pool; error feedback keeps
// exactly what compression dropped; every persona writes a valid file for its identity, and
// each cheat looks as intended; and the CLI against a real local validator (wrangler dev): an
// honest upload is accepted and valid, a late one refused with UPLOAD_TOO_LATE; a multipart
// upload is accepted too.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byteModel } from "../../gpu-runner/model/family.ts";
import { LossSession } from "../../gpu-runner/model/loss-session.ts";
import { transformerManifest } from "../../gpu-runner/model/transformer.ts";
import type { SubmissionJson } from "../../schema/api/public.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { decompressParam } from "../../schema/codec/decode.ts";
import { encodeGradient } from "../../schema/codec/encode.ts";
import { LATEST_FORMAT_VERSION } from "../../schema/codec/format-version.ts";
import type { GradientIdentity } from "../../schema/codec/gradient-format.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import { validateGradient } from "../../schema/codec/validate.ts";
import { type DataManifest, gatherSamples } from "../../schema/data/dataset.ts";
import { getHparams } from "../../schema/hparams.ts";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { readCheckpoint } from "../../schema/model/checkpoint.ts";
import { INITIAL_CHECKPOINT_KEY } from "../../schema/model/keys.ts";
import { minerPool } from "../../schema/sampling/assignment.ts";
import { dataArtifacts } from "../../scripts/artifacts/data-artifacts.ts";
import { modelArtifacts } from "../../scripts/artifacts/model-artifacts.ts";
import {
  HUGE_VALUE,
  PERSONA_FUNCTIONS,
  PERSONAS,
  type PersonaContext,
  type PersonaName,
  SMALL_BATCH_DIVISOR,
  WRONG_DATA_UID_OFFSET,
} from "../../scripts/miner/personas.ts";
import { Trainer } from "../../scripts/miner/trainer.ts";
import { uploadGradient } from "../../scripts/miner/upload.ts";
import { WorkDir } from "../../scripts/miner/work-dir.ts";
import { randomValues, rng } from "../shared/fixtures/gradients.ts";
import { type LocalValidator, startLocalValidator, until } from "./support/local-validator.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CORPUS = path.resolve(ROOT, "../shared/data/tinyshakespeare.txt");
const hparams = getHparams("local");
const manifest = transformerManifest(byteModel(hparams, "this test"));
const layouts = gradientLayout(manifest, hparams.compression);
const model = modelArtifacts(hparams);
const theta0 = readCheckpoint(model.get(INITIAL_CHECKPOINT_KEY) as Uint8Array, manifest).params;
const corpus = existsSync(CORPUS)
  ? new Uint8Array(readFileSync(CORPUS))
  : new Uint8Array(400_000).map((_, i) => 32 + ((i * 7919) % 90));
const data = dataArtifacts(corpus, "corpus.txt", hparams);
const dataManifest = JSON.parse(new TextDecoder().decode(data.get("data/manifest.json"))) as DataManifest;
const train = dataManifest.splits.train;
const samples = async (ids: readonly number[]) =>
  gatherSamples(train, dataManifest.seq_len, ids, (i) => data.get(train.shards[i]?.key as string) as Uint8Array);
const { inner_steps, batch_size } = hparams.training;
const poolOf = (uid: number, window: number) => minerPool(uid, window, train.samples, inner_steps * batch_size);
const NETUID = 2;
const HUGE_VALUE_F32 = Math.fround(HUGE_VALUE);
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "miner-test-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The mean loss of θ over `ids`, in batches of 8. */
async function poolLoss(session: LossSession, theta: Float32Array, ids: readonly number[]): Promise<number> {
  let sum = 0;
  for (let at = 0; at < ids.length; at += session.batch)
    sum += await session.loss(theta, await samples(ids.slice(at, at + session.batch)));
  return sum / (ids.length / session.batch);
}

/** The dense decode of a gradient's compressed parameters, flat in manifest order. */
function decodeFlat(params: readonly Parameters<typeof decompressParam>[0][]): Float32Array {
  const out = new Float32Array(theta0.length);
  let offset = 0;
  params.forEach((p, i) => {
    const layout = layouts[i] as (typeof layouts)[number];
    out.set(decompressParam(p, layout, false), offset);
    offset += layout.numel;
  });
  return out;
}

describe("trainer", () => {
  let trainer: Trainer;
  let session: LossSession;
  beforeAll(async () => {
    trainer = await Trainer.create(hparams);
    session = await LossSession.create(byteModel(hparams, "this test"), 8);
  });
  afterAll(async () => {
    await trainer?.release();
    await session?.release();
  });

  it("lowers the loss on its pool with real gradients", async () => {
    const pool = poolOf(3, 1);
    const before = await poolLoss(session, theta0, pool);
    const run = await trainer.innerSteps(theta0, pool, samples);
    const after = await poolLoss(session, run.theta, pool);
    expect(run.losses).toHaveLength(inner_steps);
    // The first step's loss is that of the pool's first batch_size samples on θ_0.
    expect(run.losses[0]).toBeCloseTo(await poolLoss(session, theta0, pool.slice(0, batch_size)), 4);
    expect(before).toBeGreaterThan(5.3); // ≈ ln 256 at init
    expect(after).toBeLessThan(before - 0.3);
    expect(run.losses.at(-1)).toBeLessThan(run.losses[0] as number);
  });

  it("keeps in EF exactly what compression dropped: EF' = decay·EF + lr·Δ − decode(sent)", async () => {
    const identity = (window: number): GradientIdentity => ({
      netuid: NETUID,
      window,
      uid: 3,
      hotkey: "5x",
      base_window: window,
    });
    // A first window leaves a residual, so the decay term is tested on a non-zero EF.
    await trainer.trainWindow({ theta: theta0, pool: poolOf(3, 2), samples, identity: identity(2) });
    const before = Float32Array.from(trainer.errorFeedback.buffer);
    expect(before.some((v) => v !== 0)).toBe(true);
    const g = await trainer.trainWindow({ theta: theta0, pool: poolOf(3, 3), samples, identity: identity(3) });
    const sent = decodeFlat(g.params);
    const { momentum_decay: decay, outer_learning_rate: lr } = hparams.training;
    const after = trainer.errorFeedback.buffer;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < after.length; i++) {
      const expected = decay * (before[i] as number) + lr * (g.delta[i] as number) - (sent[i] as number);
      worst = Math.max(worst, Math.abs((after[i] as number) - expected));
      scale = Math.max(scale, Math.abs(expected));
    }
    expect(scale).toBeGreaterThan(1e-4);
    expect(worst).toBeLessThan(scale * 1e-6);
    // What was sent is what the file holds.
    const file = readGradientFile(g.file, { manifest, hparams });
    expect(decodeFlat(file.params)).toEqual(sent);
  });
});

describe("personas", () => {
  const trainers = new Map<number, Promise<Trainer>>();
  const trainerFor = (batch: number) => {
    if (!trainers.has(batch))
      trainers.set(batch, Trainer.create({ ...hparams, training: { ...hparams.training, batch_size: batch } }));
    return trainers.get(batch) as Promise<Trainer>;
  };
  const hotkey = hotkeySignerFromSecret("//MinerPersonas").address;
  /** The aggregate the personas' validator "published" for the window before, if any. */
  let published: Float32Array | undefined;
  afterAll(async () => {
    for (const t of trainers.values()) await (await t).release();
  });

  function context(window: number, uid: number, workDir: WorkDir, copyFrom?: WorkDir): PersonaContext {
    const identity = { netuid: NETUID, window, uid, hotkey, base_window: window - 1 };
    return {
      identity,
      theta: theta0,
      hparams,
      manifest,
      formatVersion: LATEST_FORMAT_VERSION,
      layouts,
      pool: poolOf(uid, window),
      poolOf: (other) => poolOf(other, window),
      train: async (pool, batch = batch_size) =>
        (await trainerFor(batch)).trainWindow({ theta: theta0, pool, samples, identity }),
      previousAggregate: async () => published,
      workDir,
      copyFrom,
      until: async (what, check) => {
        const value = await until(what, async () => check(), 5000, 50);
        return value as NonNullable<typeof value>;
      },
      random: rng(window * 1000 + uid),
    };
  }

  async function produce(name: PersonaName, window: number, uid: number, workDir: WorkDir, copyFrom?: WorkDir) {
    const sent = await PERSONA_FUNCTIONS[name](context(window, uid, workDir, copyFrom));
    const bytes = sent.file;
    if (!bytes) throw new Error(`${name} sent nothing in window ${window}`);
    const report = validateGradient(bytes, {
      manifest,
      hparams,
      expect: { netuid: NETUID, window, uid, hotkey },
    });
    expect(report.metadata.base_window).toBe(window - 1);
    return { upload: { ...sent, file: bytes }, report, file: readGradientFile(bytes, { manifest, hparams }) };
  }

  /** Records an upload of `bytes` for (window, uid) in `dir`, as the window loop does after a 202. */
  function recordUpload(dir: WorkDir, window: number, uid: number, bytes: Uint8Array) {
    dir.recordUpload(bytes, { window, uid, sha256: "00", size: bytes.length, received_at_ms: Date.now() });
  }

  it("each writes a valid gradient file for its own identity, sent when it should be", async () => {
    const victim = new WorkDir(tempDir());
    const victimFile = (await produce("honest", 7, 3, victim)).upload.file;
    recordUpload(victim, 7, 3, victimFile);
    published = randomValues(rng(7), theta0.length, 1e-3);
    for (const name of PERSONAS) {
      const { upload } = await produce(name, 7, 5, new WorkDir(tempDir()), victim);
      expect(upload.send, name).toBe(name === "late" ? "after-put-window" : "in-put-window");
      const trains = ["honest", "late", "wrong-data", "replayer", "lazy", "small-batch"];
      expect(upload.losses.length > 0, name).toBe(trains.includes(name));
    }
  });

  it("free-rider decodes to zeros; noise to non-zero values of a gradient's scale", async () => {
    const free = await produce("free-rider", 4, 5, new WorkDir(tempDir()));
    expect(decodeFlat(free.file.params).every((v) => v === 0)).toBe(true);
    const honest = await produce("honest", 4, 6, new WorkDir(tempDir()));
    const noisy = await produce("noise", 4, 7, new WorkDir(tempDir()));
    const rms = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    const ratio = rms(decodeFlat(noisy.file.params)) / rms(decodeFlat(honest.file.params));
    expect(ratio).toBeGreaterThan(0.1);
    expect(ratio).toBeLessThan(10);
  });

  it("wrong-data trains on another uid's pool", async () => {
    const uid = 5;
    const seen: number[][] = [];
    const ctx = context(4, uid, new WorkDir(tempDir()));
    await PERSONA_FUNCTIONS["wrong-data"]({
      ...ctx,
      train: (pool) => {
        seen.push([...pool]);
        return ctx.train(pool);
      },
    });
    expect(seen).toEqual([poolOf(uid + WRONG_DATA_UID_OFFSET, 4)]);
    expect(seen[0]).not.toEqual(poolOf(uid, 4));
  });

  it("replayer trains in its first window, then sends that file's tensors under the new metadata", async () => {
    const own = new WorkDir(tempDir());
    const first = await produce("replayer", 10, 5, own);
    expect(first.upload.losses.length).toBe(inner_steps);
    recordUpload(own, 10, 5, first.upload.file);
    const later = await produce("replayer", 12, 5, own);
    expect(later.upload.losses).toEqual([]);
    expect(later.report.metadata.window).toBe(12);
    expect(later.report.tensorDigest).toBe(first.report.tensorDigest);
    expect(later.upload.file).not.toEqual(first.upload.file);
  });

  it("copier: an exact copy on even windows, the same indices with other values on odd ones", async () => {
    const victim = new WorkDir(tempDir());
    for (const window of [20, 21]) {
      const original = await produce("honest", window, 3, victim);
      recordUpload(victim, window, 3, original.upload.file);
      const copy = await produce("copier", window, 5, new WorkDir(tempDir()), victim);
      expect(copy.report.metadata.uid).toBe(5);
      if (window % 2 === 0) {
        expect(copy.report.tensorDigest).toBe(original.report.tensorDigest);
        continue;
      }
      expect(copy.report.tensorDigest).not.toBe(original.report.tensorDigest);
      copy.file.params.forEach((p, i) => {
        const o = original.file.params[i] as (typeof original.file.params)[number];
        expect(p.idxs).toEqual(o.idxs);
      });
      const a = decodeFlat(copy.file.params);
      const b = decodeFlat(original.file.params);
      let differ = 0;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
      expect(differ).toBeGreaterThan(0);
    }
  });

  it("aggregate-replayer sends the published aggregate of the window before, nothing while there is none", async () => {
    published = undefined;
    const none = await PERSONA_FUNCTIONS["aggregate-replayer"](context(8, 5, new WorkDir(tempDir())));
    expect(none.file).toBeNull();
    published = randomValues(rng(8), theta0.length, 1e-3);
    const replayed = await produce("aggregate-replayer", 9, 5, new WorkDir(tempDir()));
    // What it sends is the aggregate, compressed as any dense gradient is.
    const compressed = encodeGradient({
      identity: { netuid: NETUID, window: 9, uid: 5, hotkey, base_window: 8 },
      gradient: published,
      parameters: theta0,
      layouts,
      compression: hparams.compression,
      sync: hparams.sync,
    });
    expect(decodeFlat(replayed.file.params)).toEqual(decodeFlat(compressed.params));
    published = undefined;
  });

  it("random-delta sends a dense uniform delta of a gradient's scale, another each window", async () => {
    const { inner_learning_rate, outer_learning_rate } = hparams.training;
    const bound = inner_learning_rate * inner_steps * outer_learning_rate;
    const a = decodeFlat((await produce("random-delta", 4, 5, new WorkDir(tempDir()))).file.params);
    const b = decodeFlat((await produce("random-delta", 5, 5, new WorkDir(tempDir()))).file.params);
    const nonZero = a.filter((v) => v !== 0);
    expect(nonZero.length).toBeGreaterThan(0);
    // top-k keeps each chunk's largest: what survives lies near the bound, never past it (quantized to 4 bins)
    expect(Math.max(...nonZero.map(Math.abs))).toBeLessThanOrEqual(bound * 1.01);
    expect(Math.max(...nonZero.map(Math.abs))).toBeGreaterThan(bound * 0.5);
    expect(a).not.toEqual(b);
  });

  it("huge-values writes a valid file whose values are finite but ±3e38", async () => {
    const huge = await produce("huge-values", 4, 5, new WorkDir(tempDir()));
    for (const p of huge.file.params) {
      expect([...p.lookup].every((v) => Math.abs(v) === HUGE_VALUE_F32)).toBe(true);
      expect(p.shift).toBe(0);
    }
  });

  it("lazy takes one inner step on its pool's first batch; small-batch every step on 1/8 of the batch", async () => {
    const seen: { pool: number[]; batch: number | undefined }[] = [];
    for (const name of ["lazy", "small-batch"] as const) {
      const ctx = context(4, 5, new WorkDir(tempDir()));
      const upload = await PERSONA_FUNCTIONS[name]({
        ...ctx,
        train: (pool, batch) => {
          seen.push({ pool: [...pool], batch });
          return ctx.train(pool, batch);
        },
      });
      expect(upload.losses, name).toHaveLength(name === "lazy" ? 1 : inner_steps);
    }
    expect(seen).toEqual([
      { pool: poolOf(5, 4).slice(0, batch_size), batch: undefined },
      { pool: poolOf(5, 4), batch: batch_size / SMALL_BATCH_DIVISOR },
    ]);
  });

  it("copier gives up when the victim never uploads", async () => {
    await expect(produce("copier", 30, 5, new WorkDir(tempDir()), new WorkDir(tempDir()))).rejects.toThrow(
      /timed out waiting for the upload of window 30/,
    );
  });
});

describe("miner CLI against a local validator", () => {
  const W = 50;
  const BPW = hparams.window.blocks_per_window;
  const miners = [
    { uid: 3, persona: "honest", secret: "//MinerE2E3" },
    { uid: 4, persona: "late", secret: "//MinerE2E4" },
  ].map((m) => ({ ...m, hotkey: hotkeySignerFromSecret(m.secret).address, workDir: tempDir() }));
  const MULTIPART_SIGNER = hotkeySignerFromSecret("//MinerE2E5");
  const multipartFile = () =>
    encodeGradient({
      identity: { netuid: NETUID, window: W, uid: 5, hotkey: MULTIPART_SIGNER.address, base_window: 0 },
      gradient: randomValues(rng(5), theta0.length, 1e-3),
      parameters: theta0,
      layouts,
      compression: hparams.compression,
      sync: hparams.sync,
    }).file;
  let v: LocalValidator;

  beforeAll(async () => {
    v = await startLocalValidator({
      artifacts: new Map([...model, ...data]),
    });
    const now = Date.now();
    // The chain's part: the miners are registered, and the head is the last block of window W.
    // Its seen time lies in the future so that the Worker takes D1's head and never asks the
    // (absent) chain; the test moves it on.
    await v.sql(
      [
        ...[...miners, { uid: 5, hotkey: MULTIPART_SIGNER.address }].map(
          (m) => `INSERT INTO neurons VALUES (${m.uid}, '${m.hotkey}', '${m.hotkey}', '0', 0, 1, 1, ${now});`,
        ),
        `INSERT INTO chain_head VALUES (1, ${(W + 1) * BPW - 1}, '0x00', ${now}, ${now + 3_600_000});`,
        `INSERT INTO windows (window, start_block, end_block, put_opens_at_ms, put_closes_at_ms, state, updated_at_ms)
         VALUES (${W - 1}, ${(W - 1) * BPW}, ${W * BPW - 1}, ${now - 60_000}, ${now - 42_000}, 'put_closed', ${now});`,
      ].join("\n"),
    );
  }, 240_000);

  afterAll(async () => {
    await v?.stop();
  });

  /**
   * SQL while the miners poll the Worker: the local D1 is one SQLite file that wrangler's
   * `d1 execute` finds busy now and then (SQLITE_BUSY); the statements are idempotent.
   */
  async function sqlWhilePolled(command: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await v.sql(command);
        return;
      } catch (e) {
        if (attempt >= 10 || !String((e as { stdout?: string }).stdout).includes("SQLITE_BUSY")) throw e;
      }
    }
  }

  function miner(m: (typeof miners)[number]): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
    const args = ["scripts/miner.ts", "--url", v.url, "--hotkey", m.secret, "--uid", String(m.uid)];
    const child = spawn(
      process.execPath,
      [...args, "--persona", m.persona, "--windows", "1", "--work-dir", m.workDir],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const lines: string[] = [];
    const collect = (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean));
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    return { child, lines, exited: new Promise((resolve) => child.once("exit", resolve)) };
  }

  it("uploads an honest gradient that is accepted and valid; a late one is refused with UPLOAD_TOO_LATE; multipart works", async () => {
    const runs = miners.map(miner);
    // Both have started (and read window W as the current one) before the chain moves on.
    await until(
      "the miners to start",
      async () => runs.every((r) => r.lines.some((l) => l.startsWith("miner uid"))),
      60_000,
      100,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const opens = Date.now();
    await sqlWhilePolled(
      [
        `UPDATE chain_head SET block = ${(W + 1) * BPW}, timestamp_ms = ${opens} WHERE id = 1;`,
        `INSERT INTO windows (window, start_block, end_block, put_opens_at_ms, put_closes_at_ms, state, updated_at_ms)
         VALUES (${W}, ${W * BPW}, ${(W + 1) * BPW - 1}, ${opens}, ${opens + 12_000}, 'put_open', ${opens})
         ON CONFLICT (window) DO UPDATE SET put_opens_at_ms = excluded.put_opens_at_ms,
           put_closes_at_ms = excluded.put_closes_at_ms, state = excluded.state;`,
      ].join("\n"),
    );
    // The multipart path, by a third miner whose client treats every file as too big for one request.
    const multipart = await uploadGradient(
      MULTIPART_SIGNER,
      { url: v.url, netuid: NETUID, window: W, uid: 5 },
      multipartFile(),
      { ...hparams.limits, max_single_upload_bytes: 0 },
    );
    expect(multipart).toMatchObject({ accepted: true, status: 202 });
    const [honest, late] = runs as [ReturnType<typeof miner>, ReturnType<typeof miner>];
    expect(await late.exited, late.lines.join("\n")).toBe(0);

    // The put window has closed (the late miner saw it) and the seed block is known: the cron
    // runs copy detection, after which the honest miner's verdict is final.
    await sqlWhilePolled(
      `UPDATE windows SET seed_block = ${(W + 1) * BPW + 6}, seed_block_hash = '0x${"c3".repeat(32)}', state = 'put_closed' WHERE window = ${W}`,
    );
    await until(
      "copy detection",
      async () => {
        await v.tick();
        const state = ((await (await fetch(`${v.url}/v1/windows/${W}`)).json()) as { state: string }).state;
        return !["put_open", "put_closed"].includes(state);
      },
      60_000,
      1000,
    );
    expect(await honest.exited, honest.lines.join("\n")).toBe(0);

    const honestLine = honest.lines.find((l) => l.startsWith(`window ${W} `)) ?? "";
    expect(honestLine, honest.lines.join("\n")).toMatch(
      /base 0 \| honest \| loss \d\.\d+→\d\.\d+ \| upload 202 \| verdict valid/,
    );
    const lateLine = late.lines.find((l) => l.startsWith(`window ${W} `)) ?? "";
    expect(lateLine, late.lines.join("\n")).toMatch(/\| late \| loss \d\.\d+→\d\.\d+ \| refused UPLOAD_TOO_LATE: /);
    expect(late.lines.join("\n")).not.toMatch(/\n\s+at /); // no stack trace

    const res = await fetch(`${v.url}/v1/submissions/${W}/3`);
    const submission = ((await res.json()) as { submission: SubmissionJson }).submission;
    expect(submission.status).toBe("valid");
    expect(new WorkDir(miners[0]?.workDir as string).marker(W)?.sha256).toBe(submission.sha256);
    const history = (await (await fetch(`${v.url}/v1/miners/4/submissions`)).json()) as {
      submissions: unknown[];
      refusals: { window: number; code: string }[];
    };
    expect(history.submissions).toEqual([]);
    expect(history.refusals).toContainEqual(expect.objectContaining({ window: W, code: "UPLOAD_TOO_LATE" }));
    const third = await until("the multipart upload's verdict", async () => {
      const s = ((await (await fetch(`${v.url}/v1/submissions/${W}/5`)).json()) as { submission: SubmissionJson })
        .submission;
      return s.status === "received" ? null : s;
    });
    expect(third.status).toBe("valid");
    expect(third.multipart_created_at_ms).not.toBeNull();
  }, 180_000);
});
