/**
 * The faults the local network met and rode out (a process restarted, the chain stalled, the
 * validator unreachable), as one-line notes: logged when they happen, and collected until the
 * next window line shows them.
 */

/** One fault or recovery, with when it was noted. */
export interface FaultNote {
  readonly atMs: number;
  readonly text: string;
}

export class FaultLog {
  readonly #log: (line: string) => void;
  readonly #pending: FaultNote[] = [];
  /** Every note of the run, in order. */
  readonly all: FaultNote[] = [];

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /** Notes a fault: logged now, and kept for the next window line. */
  note(text: string, atMs = Date.now()): void {
    const note = { atMs, text };
    this.#pending.push(note);
    this.all.push(note);
    this.#log(`fault: ${text}`);
  }

  /** The notes since the previous call. */
  drain(): string[] {
    return this.#pending.splice(0).map((n) => n.text);
  }
}

/** Seconds, as the notes print them. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
