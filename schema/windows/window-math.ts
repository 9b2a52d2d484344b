/**
 * Window arithmetic (docs/SPEC.md §1), pure: windows of blocks, the put window of S and how a
 * receipt time falls against it.
 */
import type { WindowHparams } from "../hparams.ts";

/** The window a block belongs to: floor(block / blocks_per_window). */
export function windowOfBlock(block: number, w: WindowHparams): number {
  return Math.floor(block / w.blocks_per_window);
}

/** The first block of window S+1, whose timestamp opens the put window of S. */
export function openingBlock(window: number, w: WindowHparams): number {
  return (window + 1) * w.blocks_per_window;
}

/** The put window of S, inclusive at both ends. */
export interface PutWindow {
  readonly window: number;
  readonly opensAtMs: number;
  readonly closesAtMs: number;
}

/** The put window of S given the timestamp of its opening block. */
export function putWindowFrom(window: number, openingBlockAtMs: number, w: WindowHparams): PutWindow {
  return { window, opensAtMs: openingBlockAtMs, closesAtMs: openingBlockAtMs + w.time_window_delta_seconds * 1000 };
}

export type ReceiptTiming = "early" | "in_window" | "late";

/** Where a receipt time falls; a put window that has not opened yet (null) makes it early. */
export function judgeReceipt(atMs: number, put: PutWindow | null): ReceiptTiming {
  if (!put || atMs < put.opensAtMs) return "early";
  return atMs > put.closesAtMs ? "late" : "in_window";
}

/**
 * True if the put window of S certainly closed before the window `headWindow` began, assuming
 * blocks no faster than half the expected block time: lets the validator refuse uploads for
 * long-gone windows without reading old blocks.
 */
export function certainlyClosed(window: number, headWindow: number, w: WindowHparams): boolean {
  const windowMs = (w.blocks_per_window * w.block_time_ms) / 2;
  const windowsOpen = Math.ceil((w.time_window_delta_seconds * 1000) / windowMs);
  return window + 1 + windowsOpen < headWindow;
}

/**
 * True when the put window of `window` cannot have opened: it opens at the timestamp of block
 * (window+1)·bpw, which lies more than one window past the head. Judged on the head alone, so a
 * far-future window costs no chain call (and no block number past what the chain can address).
 */
export function certainlyNotOpen(window: number, headWindow: number): boolean {
  return window > headWindow + 1;
}
