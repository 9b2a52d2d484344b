/**
 * The validation queue's consumer: each message validates an upload or takes its fingerprint;
 * after a fingerprint, copy detection runs if the window is ready. A failure that is not a
 * verdict (R2, D1, a missing manifest or seed block) retries the message with a delay.
 */
import type { WorkerContext } from "../context.ts";
import { detectWindowCopies } from "../copies/detect-window-copies.ts";
import { takeFingerprint } from "../copies/take-fingerprint.ts";
import { log } from "../logging/log.ts";
import type { ValidationMessage } from "./messages.ts";
import { validateSubmission } from "./validate-submission.ts";

const RETRY_DELAY_SECONDS = 5;

/** Handles one message. */
export async function handleValidationMessage(ctx: WorkerContext, message: ValidationMessage): Promise<void> {
  switch (message.kind) {
    case "validate":
      await validateSubmission(ctx, message.submissionId);
      return;
    case "fingerprint": {
      const window = await takeFingerprint(ctx, message.submissionId);
      if (window !== undefined) await detectWindowCopies(ctx, window);
      return;
    }
  }
}

/** Handles a batch, acknowledging each message or retrying it. */
export async function consumeValidationBatch(
  ctx: WorkerContext,
  batch: MessageBatch<ValidationMessage>,
): Promise<void> {
  for (const message of batch.messages) {
    try {
      await handleValidationMessage(ctx, message.body);
      message.ack();
    } catch (e) {
      log.error("validation.message_failed", {
        submission_id: message.body.submissionId,
        kind: message.body.kind,
        attempts: message.attempts,
        msg: "validation message failed: retried",
        error: e,
      });
      message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
    }
  }
}
