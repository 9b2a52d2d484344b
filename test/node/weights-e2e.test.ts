// Weights end to end: the cron Worker, inside workerd (wrangler dev), scores an evaluated window
// and sets its weights on the real subtensor runtime (chopsticks) through PolkadotChainClient,
// signing with the validator hotkey from its secret; then the same with commit-reveal on. D1 is
// seeded with the window's evaluations (the runners' part, tested in evaluation-e2e.test.ts).

import { spawn } from "node:child_process";
import path from "node:path";
import type { ApiPromise } from "@polkadot/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byteModel } from "../../gpu-runner/model/family.ts";
import { transformerManifest } from "../../gpu-runner/model/transformer.ts";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { sampleParams } from "../../schema/codec/encode.ts";
import { getHparams } from "../../schema/hparams.ts";
import { readCheckpoint } from "../../schema/model/checkpoint.ts";
import { INITIAL_CHECKPOINT_KEY } from "../../schema/model/keys.ts";
import { modelArtifacts } from "../../scripts/artifacts/model-artifacts.ts";
import { type LocalChain, startLocalChain } from "../../scripts/local-chain/chopsticks.ts";
import { connect, type LocalSubnet, newBlocks, setUpSubnet, sudo } from "../../scripts/local-chain/subnet.ts";
import { SPEC_SOURCE, specAvailable } from "../../scripts/local-chain/subtensor-spec.ts";
import { type LocalValidator, startLocalValidator, until } from "./support/local-validator.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const hparams = getHparams("local");
const BPW = hparams.window.blocks_per_window;
const available = specAvailable();
if (!available)
  console.warn(`SKIPPED weights e2e: the subtensor spec is absent at ${SPEC_SOURCE} (CI has it; set SUBTENSOR_SPEC)`);

const artifacts = modelArtifacts(hparams);
const manifest = transformerManifest(byteModel(hparams, "this test"));
const { params } = readCheckpoint(artifacts.get(INITIAL_CHECKPOINT_KEY) as Uint8Array, manifest);
/** θ_0 at the param_sample positions: what miners in step with the model send. */
const THETA_SAMPLE = sampleParams(params, gradientLayout(manifest, hparams.compression), hparams.sync);

describe.skipIf(!available)("weights end to end on the subtensor runtime", () => {
  let chain: LocalChain;
  let api: ApiPromise;
  let subnet: LocalSubnet;
  let v: LocalValidator;
  let validatorUid = -1;

  /** Ticks the cron until the weight set of `window` reaches `status`; returns it. */
  async function tickUntil(window: number, status: string, timeoutMs = 90_000) {
    return until(
      `window ${window}'s weights to be ${status}`,
      async () => {
        await v.tick();
        const [set] = await v.sql<{ status: string; values: string; uids: string; last_error_code: string | null }>(
          `SELECT status, "values", uids, last_error_code FROM weight_sets WHERE window = ${window}`,
        );
        return set?.status === status ? set : null;
      },
      timeoutMs,
      1000,
    );
  }

  /** Seeds an evaluated window in which uid 2 improves the loss most, then uid 3; uid 4 makes it worse. */
  async function evaluatedWindow(window: number): Promise<void> {
    const miners = await v.sql<{ uid: number; hotkey: string }>(
      "SELECT uid, hotkey FROM neurons WHERE uid IN (2, 3, 4)",
    );
    const now = Date.now();
    const sample = JSON.stringify(THETA_SAMPLE);
    await v.sql(
      [
        `INSERT INTO windows (window, start_block, end_block, state, updated_at_ms) VALUES (${window}, 0, 0, 'evaluated', ${now});`,
        `INSERT INTO evaluation_batches (id, window, state, attempts, created_at_ms) VALUES (${window}, ${window}, 'done', 1, ${now});`,
        `INSERT INTO evaluation_leases (id, batch_id, runner_id, leased_at_ms, expires_at_ms, outcome) VALUES (${window}, ${window}, 'runner', ${now}, ${now}, 'completed');`,
        ...miners.flatMap((m) => {
          const id = window * 10 + m.uid;
          const after = { 2: 4.9, 3: 4.95, 4: 5.05 }[m.uid] as number;
          // Eight samples a side, own ones improving 0.05 more than random ones (± 0.001): the
          // own-data statistic is far past its clip, so the window's evidence pays (SPEC §2.5).
          const side = (loss: number) => Array.from({ length: 8 }, (_, i) => loss + (i % 2 ? 0.001 : -0.001));
          const losses = JSON.stringify({
            own_before: side(5),
            own_after: side(after - 0.05),
            random_before: side(5),
            random_after: side(after),
          });
          return [
            `INSERT INTO submissions (id, window, uid, hotkey, object_key, size_bytes, sha256, received_at_ms, signature, status, param_sample)
             VALUES (${id}, ${window}, ${m.uid}, '${m.hotkey}', 'k', 1, 'ab', ${now}, 'sig-${id}', 'valid', '${sample}');`,
            `INSERT INTO evaluations (submission_id, window, uid, batch_id, lease_id, runner_id, loss_before_own, loss_after_own, loss_before_random, loss_after_random, sample_losses, created_at_ms)
             VALUES (${id}, ${window}, ${m.uid}, ${window}, ${window}, 'runner', 5, ${after - 0.05}, 5, ${after}, '${losses}', ${now});`,
          ];
        }),
      ].join("\n"),
    );
  }

  beforeAll(async () => {
    chain = await startLocalChain();
    api = await connect(chain.wsUrl);
    subnet = await setUpSubnet(api);
    validatorUid = Number(
      (await api.query.subtensorModule.uids(subnet.netuid, subnet.validator.hotkey.address)).toString(),
    );
    v = await startLocalValidator({
      artifacts,
      vars: { CHAIN_URL: chain.httpUrl, NETUID: String(subnet.netuid), VALIDATOR_HOTKEY_SECRET: "//Charlie//hot" },
    });
    await v.sql("INSERT INTO runners (id, token_hash, created_at_ms) VALUES ('runner', 'x', 0)");
    // A head 8 blocks into its window: every earlier put window has closed and has its seed
    // block, so the windows the clock records flow through to "scored" and none holds up ours.
    const head = await newBlocks(api, 0);
    await newBlocks(api, (BPW + 8 - (head % BPW)) % BPW);
    await until("the chain's windows to settle", async () => {
      await v.tick();
      const [open] = await v.sql<{ n: number }>(
        "SELECT count(*) AS n FROM windows WHERE state IN ('put_closed', 'validated', 'evaluating')",
      );
      const [neurons] = await v.sql<{ n: number }>("SELECT count(*) AS n FROM neurons");
      return open?.n === 0 && neurons?.n === 5; // the owner, the validator, three miners
    });
  }, 300_000);

  afterAll(async () => {
    await v?.stop();
    await api?.disconnect();
    await chain?.stop();
  });

  it("scores the window and sets its weights with set_weights: the chain holds them max-upscaled", async () => {
    await evaluatedWindow(1000);
    const set = await tickUntil(1000, "set");
    // burn uid 1 (the validator itself on this subnet), then uid 2 above uid 3; uid 4, ranked
    // last in the match, has a negative ordinal and no weight
    expect(JSON.parse(set.uids)).toEqual([1, 2, 3]);
    expect(JSON.parse(set.values)).toEqual([65535, 43690, 21845]);
    const stored = (await api.query.subtensorModule.weights(subnet.netuid, validatorUid)).toJSON();
    expect(stored).toEqual([
      [1, 65535],
      [2, 43690],
      [3, 21845],
    ]);
    const [line] = await v.sql<{ outcome: string; steps_behind: number; sync_score: number; matched: number }>(
      "SELECT outcome, steps_behind, sync_score, matched FROM window_scores WHERE window = 1000 AND uid = 2",
    );
    expect(line).toEqual({ outcome: "evaluated", steps_behind: 0, sync_score: 1, matched: 1 });

    // The dry run prints the same vector and why.
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["scripts/weights.ts", "--dry-run", "--url", v.url], { cwd: ROOT });
      let text = "";
      child.stdout.on("data", (c: Buffer) => {
        text += c.toString();
      });
      child.stderr.on("data", (c: Buffer) => {
        text += c.toString();
      });
      child.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}: ${text}`))));
    });
    expect(out).toMatch(/Weights the validator would set after window \d+/);
    expect(out).toMatch(/^\s+1\s+burn\s+0\.5000\s+65535/m);
    expect(out).toMatch(/^\s+2\s+gather\s+0\.3333\s+43690/m);
    expect(out).toMatch(/Top contributors/);
    expect(out).toMatch(/Latest weight set: window \d+, set in block \d+ \(direct/);
  }, 180_000);

  it("commits, then reveals in the next epoch, where the subnet has commit-reveal on", async () => {
    await sudo(api, api.tx.adminUtils.sudoSetCommitRevealWeightsEnabled(subnet.netuid, true));
    await evaluatedWindow(1002);
    const committed = await tickUntil(1002, "committed");
    expect(committed.last_error_code).toBeNull();
    // The reveal epoch: tempo 10 on this subnet, so a dozen blocks.
    await newBlocks(api, 12);
    const set = await tickUntil(1002, "set");
    const stored = (await api.query.subtensorModule.weights(subnet.netuid, validatorUid)).toJSON() as number[][];
    expect(stored.map(([uid]) => uid)).toEqual(JSON.parse(set.uids));
    expect(stored.map(([, value]) => value)).toEqual(JSON.parse(set.values));
    const events = await v.sql<{ event: string }>(
      "SELECT event FROM weight_set_events WHERE weight_set_id = (SELECT id FROM weight_sets WHERE window = 1002) ORDER BY id",
    );
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(["commit_submitted", "committed", "set"]));
  }, 180_000);
});
