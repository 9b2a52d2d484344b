/**
 * A submission's copy fingerprint: the indices of the window's sampled chunks, read from R2 with
 * one ranged GET per chunk (the file was validated, and its tensor ranges recorded, already).
 */
import { eq } from "drizzle-orm";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { isFormatVersion } from "../../schema/codec/format-version.ts";
import { fingerprintOf, fingerprintReads } from "../../schema/copies/fingerprint.ts";
import { fingerprintSample } from "../../schema/copies/fingerprint-sample.ts";
import { copyFingerprints, submissions, windows } from "../../schema/db/index.ts";
import { loadModelManifest } from "../artifacts.ts";
import type { WorkerContext } from "../context.ts";

const PARALLEL_READS = 8;

/** Takes and stores the fingerprint of a valid submission once its window's seed block is known. */
export async function takeFingerprint(ctx: WorkerContext, submissionId: number): Promise<number | undefined> {
  const sub = await ctx.db.select().from(submissions).where(eq(submissions.id, submissionId)).get();
  if (!sub || sub.status !== "valid" || !sub.tensorRanges) return undefined;
  const done = await ctx.db
    .select({ id: copyFingerprints.submissionId })
    .from(copyFingerprints)
    .where(eq(copyFingerprints.submissionId, sub.id))
    .get();
  if (done) return sub.window;
  const win = await ctx.db
    .select({ seed: windows.seedBlockHash })
    .from(windows)
    .where(eq(windows.window, sub.window))
    .get();
  if (!win?.seed) throw new Error(`window ${sub.window}: seed block not known yet`);

  const layouts = gradientLayout(await loadModelManifest(ctx.artifacts), ctx.config.hparams.compression);
  const sample = fingerprintSample(win.seed, layouts, ctx.config.hparams.copy);
  // Rows validated before format version 2 existed hold version 1 files.
  const reads = fingerprintReads(
    layouts,
    sample,
    sub.tensorRanges,
    isFormatVersion(sub.formatVersion) ? sub.formatVersion : 1,
  );
  const bytes: Uint8Array[] = [];
  for (let i = 0; i < reads.length; i += PARALLEL_READS) {
    const batch = await Promise.all(
      reads.slice(i, i + PARALLEL_READS).map(async (r) => {
        const part = await ctx.gradients.get(sub.objectKey, { range: { offset: r.offset, length: r.length } });
        if (!part) throw new Error(`submission ${sub.id}: object ${sub.objectKey} is missing`);
        return new Uint8Array(await part.arrayBuffer());
      }),
    );
    bytes.push(...batch);
  }
  const fingerprint = fingerprintOf(reads, bytes);
  await ctx.db
    .insert(copyFingerprints)
    .values({
      submissionId: sub.id,
      window: sub.window,
      uid: sub.uid,
      seedBlockHash: win.seed,
      sample: fingerprint,
      createdAtMs: ctx.now(),
    })
    .onConflictDoNothing();
  return sub.window;
}
