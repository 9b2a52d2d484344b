// The D1 schema as the Worker sees it: migrations applied by the setup file, used through drizzle.
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import * as tables from "../../schema/db/index.ts";

const db = drizzle(env.DB);

/** The SQLite message under drizzle's DrizzleQueryError. */
async function sqliteError(query: Promise<unknown>): Promise<string> {
  try {
    await query;
  } catch (e) {
    return String((e as { cause?: unknown }).cause ?? e);
  }
  return "no error";
}

const submission = (uid: number, signature: string) => ({
  window: 60,
  uid,
  hotkey: `hotkey-${uid}`,
  objectKey: `gradients/2/60/${uid}.safetensors`,
  sizeBytes: 1234,
  sha256: "ab".repeat(32),
  receivedAtMs: 1_795_000_001_234,
  signature,
});

describe("D1 schema", () => {
  it("creates every table drizzle declares", async () => {
    const { results } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{
      name: string;
    }>();
    const names = new Set(results.map((r) => r.name));
    for (const t of [
      "neurons",
      "windows",
      "submissions",
      "upload_refusals",
      "multipart_uploads",
      "copy_fingerprints",
      "copy_flags",
      "runners",
      "evaluation_batches",
      "evaluation_batch_items",
      "evaluation_leases",
      "evaluations",
      "window_scores",
      "uid_states",
      "weight_sets",
      "weight_set_events",
      "checkpoint_samples",
      "checkpoints",
      "model_advances",
    ]) {
      expect(names, t).toContain(t);
    }
  });

  it("keeps one submission per (window, uid) and never reuses a signature", async () => {
    const [first] = await db.insert(tables.submissions).values(submission(7, "0x01")).returning();
    expect(first?.status).toBe("received");
    expect(first?.paramSample).toBeNull();
    expect(await sqliteError(db.insert(tables.submissions).values(submission(7, "0x02")))).toMatch(
      /UNIQUE constraint failed: submissions.window, submissions.uid/,
    );
    expect(await sqliteError(db.insert(tables.submissions).values(submission(8, "0x01")))).toMatch(
      /UNIQUE constraint failed: submissions.signature/,
    );
    const rows = await db.select().from(tables.submissions).where(eq(tables.submissions.window, 60));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.signature).toBe("0x01");
  });

  it("round-trips JSON columns and enforces foreign keys", async () => {
    const [row] = await db
      .insert(tables.submissions)
      .values({ ...submission(9, "0x09"), paramSample: { w: [0.5, -0.25] }, tensorRanges: { "w.idxs": [8, 104] } })
      .returning();
    expect(row?.paramSample).toEqual({ w: [0.5, -0.25] });
    expect(row?.tensorRanges).toEqual({ "w.idxs": [8, 104] });
    const orphan = db
      .insert(tables.copyFingerprints)
      .values({ submissionId: 999_999, window: 60, uid: 9, seedBlockHash: "0x00", sample: {}, createdAtMs: 1 });
    expect(await sqliteError(orphan)).toMatch(/FOREIGN KEY constraint failed/);
  });
});
