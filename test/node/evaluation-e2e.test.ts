// Evaluation end to end on a real local validator (wrangler dev: workerd, local R2, D1, Queues):
// miners upload signed gradients, the window closes, the cron tick dispatches batches, a runner
// is killed mid-batch (its lease expires by missed heartbeats), another finishes every batch
// through a restart of the validator, and `reproduce` gives the stored figures bit for bit. The
// only thing not real is the chain, whose part D1 is seeded with.

import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { encodeAddress } from "@polkadot/util-crypto";
import { getPublicKey, secretFromSeed, sign } from "@scure/sr25519";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byteModel } from "../../gpu-runner/model/family.ts";
import { transformerManifest } from "../../gpu-runner/model/transformer.ts";
import { reproduce } from "../../gpu-runner/reproduce.ts";
import { ValidatorApi } from "../../gpu-runner/validator-api.ts";
import type { EvaluationJson, WindowReportJson } from "../../schema/api/public.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { encodeGradient } from "../../schema/codec/encode.ts";
import { getHparams } from "../../schema/hparams.ts";
import { readCheckpoint } from "../../schema/model/checkpoint.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";
import { signedMessage } from "../../schema/upload/upload-claim.ts";
import { dataArtifacts } from "../../scripts/artifacts/data-artifacts.ts";
import { modelArtifacts } from "../../scripts/artifacts/model-artifacts.ts";
import { randomValues, rng } from "../shared/fixtures/gradients.ts";
import { type LocalValidator, startLocalValidator, until } from "./support/local-validator.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CORPUS = path.resolve(ROOT, "../shared/data/tinyshakespeare.txt");
const hparams = getHparams("local");
/** How long a lease (and a runner's liveness) lasts without a beat. */
const LEASE_MS = hparams.evaluation.missed_heartbeats * hparams.evaluation.heartbeat_seconds * 1000;
const manifest = transformerManifest(byteModel(hparams, "this test"));
const layouts = gradientLayout(manifest, hparams.compression);
const total = parameterSlots(manifest).total;
const W = 50;
const NETUID = 2;

interface Miner {
  uid: number;
  hotkey: string;
  secret: Uint8Array;
}
const miners: Miner[] = Array.from({ length: 6 }, (_, i) => {
  const secret = secretFromSeed(createHash("sha256").update(`e2e-miner-${i}`).digest());
  return { uid: 3 + i, hotkey: encodeAddress(getPublicKey(secret), 42), secret };
});
// The last miner's gradient is finite but enormous: its losses overflow on the runner.
const BLOWUP = miners[5] as Miner;

function gradientOf(m: Miner): Uint8Array {
  const next = rng(m.uid);
  const gradient = randomValues(next, total, m === BLOWUP ? 1e37 : 1e-3);
  const identity = { netuid: NETUID, window: W, uid: m.uid, hotkey: m.hotkey, base_window: W };
  const { compression, sync } = hparams;
  // Odd uids write format version 1, even ones version 2: one window evaluates both.
  const formatVersion = m.uid % 2 === 1 ? 1 : 2;
  const parameters = new Float32Array(total);
  return encodeGradient({ identity, gradient, parameters, layouts, compression, sync, formatVersion }).file;
}

function runner(
  url: string,
  token: string,
  args: string[] = [],
): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["gpu-runner/main.ts", "--url", url, `--token=${token}`, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean));
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return { child, lines, exited: new Promise((resolve) => child.once("exit", resolve)) };
}

describe("evaluation end to end", () => {
  let v: LocalValidator;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    const corpus = existsSync(CORPUS)
      ? new Uint8Array(readFileSync(CORPUS))
      : new Uint8Array(400_000).map((_, i) => 32 + ((i * 7919) % 90));
    v = await startLocalValidator({
      artifacts: new Map([...modelArtifacts(hparams), ...dataArtifacts(corpus, "corpus.txt", hparams)]),
    });
    const now = Date.now();
    await v.sql(
      [
        ...miners.map(
          (m) => `INSERT INTO neurons VALUES (${m.uid}, '${m.hotkey}', '${m.hotkey}', '0', 0, 1, 1, ${now});`,
        ),
        `INSERT INTO chain_head VALUES (1, ${(W + 1) * hparams.window.blocks_per_window}, '0x00', ${now}, ${now});`,
        `INSERT INTO windows (window, start_block, end_block, put_opens_at_ms, put_closes_at_ms, state, updated_at_ms)
         VALUES (${W}, 0, 0, ${now - 1000}, ${now + 600_000}, 'put_open', ${now});`,
        ...["a", "b"].map(
          (id) =>
            `INSERT INTO runners (id, token_hash, created_at_ms) VALUES ('runner-${id}', '${createHash("sha256").update(`token-${id}`).digest("hex")}', ${now});`,
        ),
      ].join("\n"),
    );
    tokens.a = "token-a";
    tokens.b = "token-b";
  }, 240_000);

  afterAll(async () => {
    await v?.stop();
  });

  it("evaluates every accepted submission, survives a killed runner and a validator restart, and reproduces bit for bit", async () => {
    for (const m of miners) {
      const file = gradientOf(m);
      const sha = createHash("sha256").update(file).digest("hex");
      const signature = `0x${Buffer.from(sign(m.secret, signedMessage({ netuid: NETUID, window: W, uid: m.uid, sha256: sha, size: file.length }))).toString("hex")}`;
      const res = await fetch(`${v.url}/v1/gradients/${W}/${m.uid}`, {
        method: "PUT",
        body: file,
        headers: {
          "X-Templar-Hotkey": m.hotkey,
          "X-Templar-Sha256": sha,
          "X-Templar-Signature": signature,
          "Content-Length": String(file.length),
        },
      });
      expect(res.status, await res.clone().text()).toBe(202);
    }
    await until("verdicts", async () => {
      const w = (await (await fetch(`${v.url}/v1/windows/${W}`)).json()) as { submissions: Record<string, number> };
      return w.submissions.valid === miners.length;
    });

    // The put window closes and the seed block is known: ticks run copy detection, then dispatch.
    await v.sql(
      `UPDATE windows SET put_closes_at_ms = ${Date.now() - 1}, seed_block = 1030, seed_block_hash = '0x${"c3".repeat(32)}', state = 'put_closed' WHERE window = ${W}`,
    );
    await until("dispatch", async () => {
      await v.tick();
      const w = (await (await fetch(`${v.url}/v1/windows/${W}`)).json()) as { state: string };
      return w.state === "evaluating";
    });
    const batches = await v.sql<{ kind: string; n: number }>(
      `SELECT kind, count(*) AS n FROM evaluation_batches WHERE window = ${W} GROUP BY kind ORDER BY kind`,
    );
    // The outer step waits for the evaluations: its peers are chosen from what they measure.
    expect(batches).toEqual([{ kind: "evaluate", n: Math.ceil(miners.length / hparams.evaluation.batch_submissions) }]);

    // Runner A is killed (SIGKILL, no chance to return its lease) after its first evaluation.
    const a = runner(v.url, tokens.a as string);
    await until(
      "runner A's first evaluation",
      async () => a.lines.some((l) => /lease \d+: 1\/\d+ uid/.test(l)),
      120_000,
      100,
    );
    a.child.kill("SIGKILL");
    await a.exited;
    const held = await v.sql<{ id: number; last_heartbeat_at_ms: number | null }>(
      `SELECT b.id, l.last_heartbeat_at_ms FROM evaluation_batches b JOIN evaluation_leases l ON l.id = b.lease_id
         WHERE b.state = 'leased' AND b.lease_runner_id = 'runner-a'`,
    );
    // A beat for its lease as soon as it was granted, before any work.
    expect(held).toEqual([{ id: expect.any(Number), last_heartbeat_at_ms: expect.any(Number) }]);
    // Without its beats, A shows dead in /v1/status within missed_heartbeats × heartbeat_seconds,
    // with the lease it still holds on paper.
    const statusOfA = async () =>
      (
        (await (await fetch(`${v.url}/v1/status`)).json()) as {
          runners: { id: string; alive: boolean; active_leases: { batch_id: number }[] }[];
        }
      ).runners.find((r) => r.id === "runner-a");
    expect((await statusOfA())?.active_leases.map((l) => l.batch_id)).toEqual([held[0]?.id]);
    await until("runner A shown dead", async () => (await statusOfA())?.alive === false, LEASE_MS * 3, 500);

    // Runner B, started as the README says, evaluates everything, including A's batch (its lease
    // ran out), then applies the outer step queued when the last batch was done. The validator is
    // restarted once B has started work: B waits for it, and every evaluation is recorded once.
    const b = runner(v.url, tokens.b as string);
    await until(
      "runner B's first lease",
      async () => b.lines.some((l) => l.includes('"event":"lease.started"')),
      120_000,
      100,
    );
    await v.restart();
    await until(
      "the outer step",
      async () => ((await (await fetch(`${v.url}/v1/windows/${W}`)).json()) as WindowReportJson).outer_step != null,
      240_000,
      500,
    );
    expect(b.child.exitCode, b.lines.join("\n")).toBeNull();
    for (const event of ["validator.unreachable", "validator.back"])
      expect(b.lines.some((l) => l.includes(`"event":"${event}"`))).toBe(true);
    b.child.kill("SIGTERM");
    expect(await b.exited, b.lines.join("\n")).toBe(0);
    // Every lease that completed had its first beat.
    expect(
      await v.sql<{ n: number }>(
        "SELECT count(*) AS n FROM evaluation_leases WHERE outcome = 'completed' AND last_heartbeat_at_ms IS NULL",
      ),
    ).toEqual([{ n: 0 }]);
    const rows = await v.sql<{ uid: number; runner_id: string; error_code: string | null }>(
      `SELECT uid, runner_id, error_code FROM evaluations WHERE window = ${W} ORDER BY uid`,
    );
    expect(rows.map((r) => r.uid)).toEqual(miners.map((m) => m.uid)); // each once
    expect(rows.every((r) => r.runner_id === "runner-b")).toBe(true);
    expect(rows.find((r) => r.uid === BLOWUP.uid)?.error_code).toBe("EVAL_NON_FINITE");
    expect(rows.filter((r) => r.error_code === null)).toHaveLength(miners.length - 1);
    expect(((await (await fetch(`${v.url}/v1/windows/${W}`)).json()) as { state: string }).state).toBe("evaluated");
    expect(b.lines.some((l) => /uid \d+: EVAL_NON_FINITE/.test(l))).toBe(true);

    // The outer step at genesis (nobody rated yet): the gradients whose evaluation improved the
    // random samples' loss, never the one that overflowed, aggregated into θ_{W+1} and published
    // with the held-out loss of θ_W and θ_{W+1} (near 8 bits per byte at init).
    expect(b.lines.some((l) => /outer step of window \d+/.test(l))).toBe(true);
    const report = (await (await fetch(`${v.url}/v1/windows/${W}`)).json()) as WindowReportJson;
    expect(report.outer_step?.peer_mode).toBe("unrated");
    const improved: number[] = [];
    for (const m of miners) {
      const { evaluation } = (await (await fetch(`${v.url}/v1/evaluations/${W}/${m.uid}`)).json()) as {
        evaluation: EvaluationJson;
      };
      if (
        evaluation.error === null &&
        (evaluation.loss_after_random as number) < (evaluation.loss_before_random as number)
      )
        improved.push(m.uid);
    }
    expect(improved.length).toBeGreaterThan(0);
    expect(report.outer_step?.applied_uids).toEqual(improved);
    expect(report.outer_step?.applied_uids).not.toContain(BLOWUP.uid);
    expect(report.outer_step?.skipped).toContainEqual({
      uid: BLOWUP.uid,
      reason: "its evaluation failed or was not finite",
    });
    for (const bpb of [report.outer_step?.heldout_bpb_before, report.outer_step?.heldout_bpb_after])
      expect(Math.abs((bpb as number) - 8)).toBeLessThan(0.1);
    const next = await fetch(`${v.url}/v1/checkpoints/${W + 1}`);
    expect(next.headers.get("X-Templar-Checkpoint-Window")).toBe(String(W + 1));
    expect(readCheckpoint(new Uint8Array(await next.arrayBuffer()), manifest).metadata.global_step).toBe(1);

    // Honest figures are plausible: at init every loss is near ln 256.
    const e = (
      (await (await fetch(`${v.url}/v1/evaluations/${W}/${miners[0]?.uid}`)).json()) as { evaluation: EvaluationJson }
    ).evaluation;
    expect(e.loss_before_own).toBeGreaterThan(5.3);
    expect(e.loss_before_own).toBeLessThan(5.8);
    expect(e.loss_after_own).not.toBe(e.loss_before_own);

    // Anyone can re-run a recorded evaluation from public data and get the same figures.
    const api = new ValidatorApi(v.url, "");
    for (const m of [miners[0], miners[4]] as Miner[]) {
      const again = await reproduce(api, W, m.uid);
      expect(
        again.rows.every((r) => r.same),
        JSON.stringify(again.rows),
      ).toBe(true);
    }
    // …and a checkpoint already downloaded is not downloaded again (304 through the ETag cache).
    const fresh = new ValidatorApi(v.url, "");
    const first = await fresh.download(`/v1/checkpoints/${W}`);
    const second = await fresh.download(`/v1/checkpoints/${W}`);
    expect([first.fresh, second.fresh]).toEqual([true, false]);
    expect(second.headers.get("X-Templar-Checkpoint-Window")).toBe("0");
  }, 480_000);
});
