/**
 * A checkpoint's loss on token samples, as operators check one (`npm run eval-loss`): Templar's
 * per-sample loss of each sample, their mean, and bits per byte from the UTF-8 bytes the scored
 * tokens decode to.
 */
import type { Tokens } from "../schema/data/dataset.ts";
import type { Hparams } from "../schema/hparams.ts";
import { llamaModel } from "./model/family.ts";
import { openEvalSession } from "./model/family-sessions.ts";
import type { Device } from "./model/session-io.ts";

/** What eval-loss prints. */
export interface CheckpointLoss {
  readonly samples: number;
  /** Mean over samples of each sample's mean loss (nats). */
  readonly mean_loss: number;
  /** Total nats over every scored token ÷ ln 2 ÷ the UTF-8 bytes those tokens decode to. */
  readonly bits_per_byte: number;
  /** Scored tokens (targets that are not EOS) and the bytes they decode to. */
  readonly scored_tokens: number;
  readonly scored_bytes: number;
  readonly per_sample: readonly number[];
}

/**
 * Loss of `params` (flat, manifest order) on `samples` (count × seq_len ids) of a llama profile,
 * `decode` turning a sample's scored target ids into text for the byte count.
 */
export async function checkpointLoss(opts: {
  hparams: Hparams;
  params: Float32Array;
  samples: Tokens;
  decode: (ids: readonly number[]) => string;
  device?: Device;
}): Promise<CheckpointLoss> {
  const m = llamaModel(opts.hparams, "eval-loss");
  const count = opts.samples.length / m.seq_len;
  if (!Number.isInteger(count) || count === 0)
    throw new RangeError(`${opts.samples.length} ids are not a whole number of ${m.seq_len}-token samples`);
  const micro = m.micro_batch;
  const session = await openEvalSession(opts.hparams, micro, opts.device ?? "cpu");
  const perSample: number[] = [];
  let nats = 0;
  let scored = 0;
  let bytes = 0;
  const encoder = new TextEncoder();
  try {
    for (let at = 0; at < count; at += micro) {
      // A last partial micro-batch is padded with its own first sample; the padding's losses are dropped.
      const take = Math.min(micro, count - at);
      const batch = new Uint32Array(micro * m.seq_len);
      for (let k = 0; k < micro; k++) {
        const from = (at + Math.min(k, take - 1)) * m.seq_len;
        batch.set(opts.samples.subarray(from, from + m.seq_len), k * m.seq_len);
      }
      const { perSample: losses } = await session.losses(opts.params, batch);
      for (let k = 0; k < take; k++) {
        const ids = Array.from(opts.samples.subarray((at + k) * m.seq_len + 1, (at + k + 1) * m.seq_len));
        const targets = ids.filter((id) => id !== m.config.eos_token_id);
        const loss = losses[k] as number;
        perSample.push(loss);
        nats += loss * targets.length;
        scored += targets.length;
        bytes += encoder.encode(opts.decode(targets)).length;
      }
    }
  } finally {
    await session.release();
  }
  return {
    samples: count,
    mean_loss: perSample.reduce((a, b) => a + b, 0) / count,
    bits_per_byte: nats / Math.LN2 / bytes,
    scored_tokens: scored,
    scored_bytes: bytes,
    per_sample: perSample,
  };
}
