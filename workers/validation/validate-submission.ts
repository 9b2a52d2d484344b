/**
 * The validation consumer's main job: stream a stored upload from R2 through the strict codec
 * validator (bounded memory, whatever the size), check the SHA-256 of multipart uploads (single
 * uploads were hashed on the way in), and record the verdict with its code.
 */
import { eq } from "drizzle-orm";
import { GradientValidator, type ValidationReport } from "../../schema/codec/validate.ts";
import { submissions } from "../../schema/db/index.ts";
import { EdgeError, ERROR_CODES } from "../../schema/errors.ts";
import { loadModelManifest } from "../artifacts.ts";
import type { WorkerContext } from "../context.ts";
import { setVerdict } from "../intake/submission-records.ts";
import { log } from "../logging/log.ts";

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Codes that are the upload's fault and become its verdict; anything else is retried. */
function isVerdict(e: unknown): e is EdgeError {
  return e instanceof EdgeError && (ERROR_CODES[e.code].stage === "verdict" || e.code === "SHA256_MISMATCH");
}

/** Validates one stored submission and records its verdict (a no-op unless it is "received"). */
export async function validateSubmission(ctx: WorkerContext, submissionId: number): Promise<void> {
  const sub = await ctx.db.select().from(submissions).where(eq(submissions.id, submissionId)).get();
  if (!sub || sub.status !== "received") return;
  const manifest = await loadModelManifest(ctx.artifacts);
  const object = await ctx.gradients.get(sub.objectKey);
  if (!object) throw new Error(`submission ${sub.id}: object ${sub.objectKey} is missing`);

  const validator = new GradientValidator({
    manifest,
    hparams: ctx.config.hparams,
    size: object.size,
    expect: { netuid: ctx.config.netuid, window: sub.window, uid: sub.uid, hotkey: sub.hotkey },
  });
  const checkSha = sub.multipartCreatedAtMs !== null;
  const digest = new crypto.DigestStream("SHA-256");
  const hash = digest.getWriter();
  let fault: EdgeError | undefined;
  let report: ValidationReport | undefined;
  const reader = object.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (checkSha) await hash.write(value);
    if (!fault) {
      try {
        validator.push(value);
      } catch (e) {
        if (!isVerdict(e)) throw e;
        fault = e;
        if (!checkSha) break; // nothing else needs the rest of the bytes
      }
    }
  }
  if (!fault) {
    try {
      report = validator.end();
    } catch (e) {
      if (!isVerdict(e)) throw e;
      fault = e;
    }
  }
  if (checkSha) {
    await hash.close();
    const sha256 = toHex(await digest.digest);
    if (sha256 !== sub.sha256) {
      fault = new EdgeError(
        "SHA256_MISMATCH",
        `the stored bytes hash to ${sha256}, the signed sha256 is ${sub.sha256}`,
      );
    }
  } else {
    await reader.cancel().catch(() => {});
  }

  const validatedAtMs = ctx.now();
  if (fault || !report) {
    const e = fault as EdgeError;
    const set = await setVerdict(ctx.db, sub.id, ["received"], {
      status: "invalid",
      errorCode: e.code,
      errorMessage: e.message,
      validatedAtMs,
    });
    if (set) logVerdict(sub, "invalid", validatedAtMs, e);
    return;
  }
  const ranges = Object.fromEntries(
    Object.entries(report.tensors).map(([name, r]) => [name, [r.begin, r.end] as [number, number]]),
  );
  const set = await setVerdict(ctx.db, sub.id, ["received"], {
    status: "valid",
    tensorDigest: report.tensorDigest,
    baseWindow: report.metadata.base_window,
    sampleDigest: report.metadata.sample_digest ?? null,
    paramSample: report.metadata.param_sample as Record<string, number[]>,
    formatVersion: report.metadata.format_version,
    tensorRanges: ranges,
    validatedAtMs,
  });
  if (set) logVerdict(sub, "valid", validatedAtMs);
}

function logVerdict(
  sub: typeof submissions.$inferSelect,
  status: "valid" | "invalid",
  validatedAtMs: number,
  error?: EdgeError,
): void {
  log.info("submission.verdict", {
    window: sub.window,
    uid: sub.uid,
    submission_id: sub.id,
    status,
    ...(error ? { code: error.code, msg: error.message } : {}),
    receipt_to_verdict_ms: validatedAtMs - sub.receivedAtMs,
  });
}
