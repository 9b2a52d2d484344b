/**
 * Timing for benchmarks: the median of repeated runs after a warm-up, progress on stderr, and
 * markdown tables on stdout. Benchmarks report ratios to a baseline timed in the same run.
 */

export interface Timing {
  /** Median milliseconds over the runs. */
  readonly ms: number;
  readonly runs: readonly number[];
}

/** Median of `runs` timed calls of `fn`, after one untimed warm-up call. */
export function time(label: string, fn: () => void, runs = 5): Timing {
  process.stderr.write(`  ${label} `);
  fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
    process.stderr.write(".");
  }
  return summary(samples);
}

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number) => (typeof v === "number" ? format(v) : v);
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

/** Three significant digits, without exponent noise for everyday magnitudes. */
export function format(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  return Number(v.toPrecision(3)).toString();
}

/** Machine and runtime, for the header of a result. */
export function environment(): string {
  return `Node ${process.version}, ${process.platform}/${process.arch}, ${navigator.hardwareConcurrency} cores`;
}

/** time() for asynchronous work: the median of `runs` awaited calls after one warm-up call. */
export async function timeAsync(label: string, fn: () => Promise<void>, runs = 5): Promise<Timing> {
  process.stderr.write(`  ${label} `);
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
    process.stderr.write(".");
  }
  return summary(samples);
}

/** The median of the samples, reported on stderr. */
function summary(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const ms = sorted[sorted.length >> 1] as number;
  process.stderr.write(` ${ms.toFixed(1)} ms\n`);
  return { ms, runs: samples };
}

/**
 * time() for several contenders at once: every run times each of them in turn (after one warm-up
 * call of each), so that drift in the machine's load falls on all alike. Medians, in order.
 */
export function timeAlternating(label: string, fns: readonly (() => void)[], runs = 5): Timing[] {
  process.stderr.write(`  ${label} `);
  for (const fn of fns) fn();
  const samples = fns.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    fns.forEach((fn, f) => {
      const t0 = performance.now();
      fn();
      samples[f]?.push(performance.now() - t0);
    });
    process.stderr.write(".");
  }
  return samples.map((s) => summary(s));
}
