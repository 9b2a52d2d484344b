/**
 * What the miner CLI prints: one line per window (window, base window, loss of the first → last
 * inner step, upload status, verdict or refusal code) and, on a terminal, a progress bar over
 * the inner steps that the window's line replaces.
 */

/** A submission's status (`valid`, `invalid`, `copied`, or still `received`) and code. */
export interface Verdict {
  readonly status: string;
  readonly code?: string;
  /** False when the miner stopped waiting before the verdict was final (copy detection pending). */
  readonly final: boolean;
}

/** How a window ended, as far as the miner saw it. */
export interface WindowOutcome {
  readonly window: number;
  /** The checkpoint's window trained from; undefined when the window failed before that. */
  readonly baseWindow?: number;
  readonly persona: string;
  readonly losses: readonly number[];
  /** The upload's HTTP status, with the refusal's code and message; undefined when nothing was sent. */
  readonly upload?:
    | { readonly accepted: true; readonly status: number }
    | { readonly accepted: false; readonly status: number; readonly code: string; readonly message: string };
  readonly verdict?: Verdict;
  /** Why nothing was sent, or a persona's remark. */
  readonly note?: string;
}

const fmt = (loss: number) => loss.toFixed(3);

/** The window's line. */
export function windowLine(o: WindowOutcome): string {
  const parts = [`window ${o.window}`, `base ${o.baseWindow ?? "-"}`, o.persona];
  const first = o.losses[0];
  const last = o.losses[o.losses.length - 1];
  parts.push(first === undefined || last === undefined ? "loss -" : `loss ${fmt(first)}→${fmt(last)}`);
  if (!o.upload) parts.push("upload -");
  else if (o.upload.accepted) parts.push(`upload ${o.upload.status}`);
  else parts.push(`refused ${o.upload.code}: ${o.upload.message}`);
  if (o.verdict) {
    const { status, code, final } = o.verdict;
    parts.push(`verdict ${status}${code ? ` ${code}` : ""}${final ? "" : " (not final)"}`);
  }
  if (o.note) parts.push(`(${o.note})`);
  return parts.join(" | ");
}

/** An in-place progress bar on a terminal; does nothing elsewhere. */
export class ProgressBar {
  readonly #out: NodeJS.WriteStream;
  #shown = false;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
  }

  /** Redraws the bar for inner step `step` of `steps`. */
  update(window: number, step: number, steps: number, loss: number): void {
    if (!this.#out.isTTY) return;
    const width = 24;
    const filled = Math.round((width * step) / Math.max(1, steps));
    const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
    this.#out.write(`\r\x1b[2Kwindow ${window} [${bar}] ${step}/${steps} loss ${fmt(loss)}`);
    this.#shown = true;
  }

  /** Shows a status instead of the bar (waiting for a checkpoint, for the put window). */
  status(text: string): void {
    if (!this.#out.isTTY) return;
    this.#out.write(`\r\x1b[2K${text}`);
    this.#shown = true;
  }

  /** Erases the bar, so the next line starts clean. */
  clear(): void {
    if (this.#shown) this.#out.write("\r\x1b[2K");
    this.#shown = false;
  }
}
