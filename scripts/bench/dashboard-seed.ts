/**
 * D1 rows for the dashboard, as SQL statements: what a validator records over a run of scored
 * windows (metagraph, windows and their put windows, submissions with verdicts, refusals, copy
 * flags, evaluations, outer steps with held-out bpb, checkpoints, score lines, uid states and a
 * weight set). Deterministic: the benchmark and the browser test seed with it. Pure (no Node
 * APIs); rows go in multi-row INSERTs of at most ROWS_PER_INSERT rows.
 */

export interface SeedMiner {
  readonly uid: number;
  readonly hotkey: string;
  /** Rating after the last window; null for a uid never rated. */
  readonly mu: number | null;
  readonly sigma: number | null;
  /** Final score after each seeded window, oldest first. */
  readonly finalScores: readonly number[];
}

export interface DashboardSeed {
  readonly firstWindow: number;
  /** How many consecutive windows are seeded, all scored. */
  readonly windows: number;
  readonly blocksPerWindow: number;
  readonly blockTimeMs: number;
  /** The head is recorded as seen now, inside the window after the last seeded one. */
  readonly nowMs: number;
  readonly netuid: number;
  readonly miners: readonly SeedMiner[];
  /** Held-out bpb after the outer step of each seeded window, oldest first. */
  readonly heldoutBpb: readonly number[];
}

const ROWS_PER_INSERT = 200;
const RUNNER = "seed-runner";

type Value = string | number | null;

/** A SQL literal. */
function lit(v: Value): string {
  if (v === null) return "NULL";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "NULL";
  return `'${v.replaceAll("'", "''")}'`;
}

/** INSERT statements for `rows` into `table`, ROWS_PER_INSERT rows each. */
function inserts(table: string, columns: readonly string[], rows: readonly (readonly Value[])[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const values = rows.slice(i, i + ROWS_PER_INSERT).map((r) => `(${r.map(lit).join(", ")})`);
    out.push(`INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(", ")}) VALUES\n${values.join(",\n")};`);
  }
  return out;
}

/** Which verdict a (window, uid) submission gets: mostly valid, some invalid, a few copied. */
function statusOf(window: number, uid: number): "valid" | "invalid" | "copied" {
  const h = (window * 31 + uid * 17) % 41;
  return h === 0 ? "invalid" : h === 1 ? "copied" : "valid";
}

/** The statements that seed a migrated D1 with `seed`. */
export function dashboardSeedSql(seed: DashboardSeed): string[] {
  const { firstWindow, blocksPerWindow: bpw, blockTimeMs, nowMs, miners } = seed;
  const windowList = Array.from({ length: seed.windows }, (_, i) => firstWindow + i);
  const last = firstWindow + seed.windows - 1;
  const current = last + 1;
  const windowMs = bpw * blockTimeMs;
  const startMs = (w: number) => nowMs - (current - w) * windowMs - windowMs / 2;
  const ms = (w: number) => Math.round(startMs(w));
  const json = (v: unknown) => JSON.stringify(v);
  const sql: string[] = [];

  sql.push(
    ...inserts(
      "neurons",
      [
        "uid",
        "hotkey",
        "coldkey",
        "stake_rao",
        "validator_permit",
        "registration_block",
        "last_seen_block",
        "last_seen_at_ms",
      ],
      miners.map((m) => [m.uid, m.hotkey, m.hotkey, "0", 0, 1, current * bpw, nowMs]),
    ),
    `INSERT INTO chain_head (id, block, hash, timestamp_ms, seen_at_ms) VALUES (1, ${current * bpw + Math.floor(bpw / 2)}, '0x00', ${nowMs}, ${nowMs});`,
    `INSERT INTO runners (id, token_hash, label, device, created_at_ms) VALUES ('${RUNNER}', 'seed', 'seed', 'cpu', ${nowMs});`,
  );
  sql.push(
    ...inserts(
      "windows",
      [
        "window",
        "start_block",
        "end_block",
        "put_opens_at_ms",
        "put_closes_at_ms",
        "seed_block",
        "state",
        "updated_at_ms",
      ],
      [
        ...windowList.map((w) => [
          w,
          w * bpw,
          (w + 1) * bpw - 1,
          ms(w + 1),
          ms(w + 1) + 20_000,
          (w + 1) * bpw + 2,
          "scored",
          nowMs,
        ]),
        [current, current * bpw, (current + 1) * bpw - 1, null, null, null, "training", nowMs],
      ],
    ),
    ...inserts(
      "evaluation_batches",
      ["id", "window", "kind", "state", "attempts", "created_at_ms", "completed_at_ms"],
      windowList.map((w, i) => [i + 1, w, "evaluate", "done", 1, ms(w), ms(w)]),
    ),
    ...inserts(
      "evaluation_leases",
      ["id", "batch_id", "runner_id", "leased_at_ms", "expires_at_ms", "ended_at_ms", "outcome"],
      windowList.map((w, i) => [i + 1, i + 1, RUNNER, ms(w), ms(w) + 60_000, ms(w), "completed"]),
    ),
  );

  const submissionRows: Value[][] = [];
  const evaluationRows: Value[][] = [];
  const refusalRows: Value[][] = [];
  const copyRows: Value[][] = [];
  const lineRows: Value[][] = [];
  let id = 0;
  windowList.forEach((w, i) => {
    let firstValid: { id: number; uid: number } | undefined;
    for (const m of miners) {
      id += 1;
      const status = statusOf(w, m.uid);
      const received = ms(w + 1) + 1000 + (m.uid % 1000);
      submissionRows.push([
        id,
        w,
        m.uid,
        m.hotkey,
        `gradients/${w}/${m.uid}.safetensors`,
        1_048_576,
        "00".repeat(32),
        received,
        `0xseed${w}x${m.uid}`,
        status,
        status === "invalid" ? "NON_FINITE" : null,
        w,
        received + 500,
      ]);
      if (status === "valid") {
        firstValid ??= { id, uid: m.uid };
        const before = 4 + (m.uid % 7) / 10;
        evaluationRows.push([
          id,
          w,
          m.uid,
          i + 1,
          i + 1,
          RUNNER,
          before,
          before - 0.02,
          before,
          before - 0.01,
          received + 900,
        ]);
      } else if (status === "copied" && firstValid) {
        copyRows.push([w, id, m.uid, firstValid.id, firstValid.uid, w, "exact", 1, "mega", received + 700]);
      }
      if ((w + m.uid) % 13 === 0)
        refusalRows.push([w, m.uid, m.hotkey, "UPLOAD_TOO_LATE", "after the put window", received + 30_000]);
      const final = m.finalScores[i] ?? 0;
      const finalBefore = i ? (m.finalScores[i - 1] ?? 0) : 0;
      // The rating converges on the miner's last one: σ shrinks from 25/3 as windows pass.
      const t = (i + 1) / seed.windows;
      const mu = m.mu === null ? null : 25 + (m.mu - 25) * t;
      const sigma = m.sigma === null ? null : 25 / 3 + (m.sigma - 25 / 3) * t;
      const penalties =
        status === "invalid"
          ? [{ kind: "invalid", factor: 0, reason: "NON_FINITE: the upload cannot be applied" }]
          : status === "copied"
            ? [{ kind: "copy_mega", factor: 0, reason: `exact copy of uid ${firstValid?.uid}` }]
            : [];
      lineRows.push([
        w,
        m.uid,
        m.hotkey,
        status === "valid" ? "evaluated" : status,
        id,
        status === "invalid" ? "NON_FINITE" : null,
        status === "valid" ? 0.005 + final / 100 : null,
        status === "valid" ? 0.006 : null,
        status === "valid" ? 0.005 : null,
        status === "valid" ? 1 : null,
        status === "valid" ? 3.2 : null,
        0.5,
        0.5,
        0,
        1,
        mu,
        sigma,
        mu,
        sigma,
        mu === null || sigma === null ? null : mu - 3 * sigma,
        status === "valid" && mu !== null ? 1 : 0,
        finalBefore,
        final,
        json(penalties),
        ms(w + 2),
      ]);
    }
  });
  sql.push(
    ...inserts(
      "submissions",
      [
        "id",
        "window",
        "uid",
        "hotkey",
        "object_key",
        "size_bytes",
        "sha256",
        "received_at_ms",
        "signature",
        "status",
        "error_code",
        "base_window",
        "validated_at_ms",
      ],
      submissionRows,
    ),
    ...inserts(
      "evaluations",
      [
        "submission_id",
        "window",
        "uid",
        "batch_id",
        "lease_id",
        "runner_id",
        "loss_before_own",
        "loss_after_own",
        "loss_before_random",
        "loss_after_random",
        "created_at_ms",
      ],
      evaluationRows,
    ),
    ...inserts("upload_refusals", ["window", "uid", "hotkey", "code", "message", "received_at_ms"], refusalRows),
    ...inserts(
      "copy_flags",
      [
        "window",
        "offender_submission_id",
        "offender_uid",
        "original_submission_id",
        "original_uid",
        "original_window",
        "kind",
        "overlap",
        "grade",
        "created_at_ms",
      ],
      copyRows,
    ),
    ...inserts(
      "window_scores",
      [
        "window",
        "uid",
        "hotkey",
        "outcome",
        "submission_id",
        "code",
        "gradient_score",
        "own_improvement",
        "random_improvement",
        "indicator",
        "indicator_t",
        "bma_before",
        "bma",
        "steps_behind",
        "sync_score",
        "mu_before",
        "sigma_before",
        "mu",
        "sigma",
        "ordinal",
        "matched",
        "final_before",
        "final_score",
        "penalties",
        "created_at_ms",
      ],
      lineRows,
    ),
    ...inserts(
      "model_advances",
      [
        "window",
        "batch_id",
        "peer_mode",
        "peers",
        "skipped",
        "applied_uids",
        "heldout_bpb_before",
        "heldout_bpb_after",
        "outer_learning_rate",
        "created_at_ms",
        "completed_at_ms",
      ],
      windowList.map((w, i) => {
        const after = seed.heldoutBpb[i] ?? null;
        const before = i ? (seed.heldoutBpb[i - 1] ?? null) : after === null ? null : after + 0.05;
        return [w, i + 1, "rated", "[]", "[]", "[]", before, after, 0.7, ms(w + 1), ms(w + 2)];
      }),
    ),
    ...inserts(
      "checkpoints",
      ["window", "object_key", "sha256", "size_bytes", "global_step", "held_out_bpb", "advanced_from", "created_at_ms"],
      windowList.map((w, i) => [
        w + 1,
        `model/checkpoints/${w + 1}.safetensors`,
        "00".repeat(32),
        1_048_576,
        i + 1,
        seed.heldoutBpb[i] ?? null,
        w,
        ms(w + 2),
      ]),
    ),
    ...inserts(
      "uid_states",
      [
        "uid",
        "hotkey",
        "bma",
        "steps_behind",
        "sync_score",
        "final_score",
        "mu",
        "sigma",
        "ban_windows_left",
        "last_submission_window",
        "last_evaluated_window",
        "updated_window",
      ],
      miners.map((m) => [m.uid, m.hotkey, 0.5, 0, 1, m.finalScores.at(-1) ?? 0, m.mu, m.sigma, 0, last, last, last]),
    ),
  );
  // The weight set after the last window: final scores above zero, normalized.
  const paid = miners.filter((m) => (m.finalScores.at(-1) ?? 0) > 0).sort((a, b) => a.uid - b.uid);
  const total = paid.reduce((a, m) => a + (m.finalScores.at(-1) ?? 0), 0);
  const weights = paid.map((m) => (m.finalScores.at(-1) ?? 0) / total);
  const max = Math.max(...weights, 0);
  sql.push(
    ...inserts(
      "weight_sets",
      [
        "window",
        "netuid",
        "uids",
        "weights",
        "values",
        "gather",
        "reserve",
        "version_key",
        "status",
        "mode",
        "attempts",
        "next_attempt_at_ms",
        "created_at_ms",
        "updated_at_ms",
      ],
      [
        [
          last,
          seed.netuid,
          json(paid.map((m) => m.uid)),
          json(weights),
          json(weights.map((w) => Math.round((w / max) * 65535))),
          json(paid.map((m) => m.uid)),
          "[]",
          "0",
          "set",
          "direct",
          0,
          nowMs,
          nowMs,
          nowMs,
        ],
      ],
    ),
  );
  return sql;
}
