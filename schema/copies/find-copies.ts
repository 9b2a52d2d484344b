/**
 * Copy detection over one window's submissions, pure (docs/SPEC.md §6):
 * - exact copies: equal tensor digests (the tensors, not the file: its metadata names the
 *   uploader), within the window and against earlier windows (a replayed old gradient);
 * - near copies: Templar's top-k index overlap, Σ|A∩B| / Σk over the window's common chunk
 *   sample, flagged at `idx_overlap_threshold`.
 * The later receipt of a pair is the offender; equal receipt times blame the later insert.
 */
import type { CopyHparams } from "../hparams.ts";

export type CopyGrade = "high" | "max" | "mega";

/** Index sets of the sampled chunks: parameter → { k, chunk id → indices }. */
export type Fingerprint = Readonly<
  Record<string, { readonly k: number; readonly chunks: Readonly<Record<number, readonly number[]>> }>
>;

export interface CopyCandidate {
  readonly submissionId: number;
  readonly uid: number;
  readonly window: number;
  readonly receivedAtMs: number;
  readonly tensorDigest: string;
}

export interface FoundCopy {
  readonly offender: CopyCandidate;
  readonly original: CopyCandidate;
  readonly kind: "exact" | "near";
  readonly overlap: number;
  readonly grade: CopyGrade;
}

/** Templar's grades: below overlap_grade_max "high", below overlap_grade_mega "max", else "mega". */
export function copyGrade(overlap: number, copy: CopyHparams): CopyGrade {
  if (overlap >= copy.overlap_grade_mega) return "mega";
  return overlap >= copy.overlap_grade_max ? "max" : "high";
}

/** Orders by receipt, then by submission id: the first is the original of any pair. */
export function receiptOrder(a: CopyCandidate, b: CopyCandidate): number {
  return a.receivedAtMs - b.receivedAtMs || a.submissionId - b.submissionId;
}

/**
 * Calls `visit(i, j, overlap)` for every pair i < j of fingerprints taken on the same chunk
 * sample. Per first member, its indices are marked in a 0/1 table of every sampled chunk; each
 * later member then costs one load and add per index, in ascending address order (its indices
 * are sorted once): O(n² · Σk) with a tight, cache-friendly inner loop.
 */
export function forEachOverlap(
  prints: readonly Fingerprint[],
  visit: (i: number, j: number, overlap: number) => void,
): void {
  const slots: { param: string; chunk: number; k: number }[] = [];
  for (const [param, sample] of Object.entries(prints[0] ?? {})) {
    for (const chunk of Object.keys(sample.chunks)) slots.push({ param, chunk: Number(chunk), k: sample.k });
  }
  const totalK = slots.reduce((n, s) => n + s.k, 0);
  if (totalK === 0) return;
  // Each fingerprint as one sorted array of slot·4096 + index (indices are below 4096).
  const flat = prints.map((p) => {
    const out: number[] = [];
    slots.forEach((s, j) => {
      for (const idx of p[s.param]?.chunks[s.chunk] ?? []) out.push(j * 4096 + idx);
    });
    return Int32Array.from(out).sort();
  });
  const marked = new Uint8Array(slots.length * 4096);
  for (let i = 0; i < flat.length; i++) {
    const mine = flat[i] as Int32Array;
    for (let t = 0; t < mine.length; t++) marked[mine[t] as number] = 1;
    for (let j = i + 1; j < flat.length; j++) {
      const theirs = flat[j] as Int32Array;
      let shared = 0;
      for (let t = 0; t < theirs.length; t++) shared += marked[theirs[t] as number] as number;
      visit(i, j, shared / totalK);
    }
    for (let t = 0; t < mine.length; t++) marked[mine[t] as number] = 0;
  }
}

/** Every copied pair of a window: exact within it and against `earlier` submissions, and near. */
export function findCopies(
  current: readonly (CopyCandidate & { readonly fingerprint: Fingerprint })[],
  earlier: readonly CopyCandidate[],
  copy: CopyHparams,
): FoundCopy[] {
  const found: FoundCopy[] = [];
  const firstEarlier = new Map<string, CopyCandidate>();
  for (const e of [...earlier].sort((a, b) => a.window - b.window || receiptOrder(a, b))) {
    if (!firstEarlier.has(e.tensorDigest)) firstEarlier.set(e.tensorDigest, e);
  }
  const byDigest = new Map<string, CopyCandidate[]>();
  for (const c of current) byDigest.set(c.tensorDigest, [...(byDigest.get(c.tensorDigest) ?? []), c]);
  for (const [digest, group] of byDigest) {
    const ordered = [...group].sort(receiptOrder);
    const replayed = firstEarlier.get(digest);
    const original = replayed ?? (ordered[0] as CopyCandidate);
    for (const offender of replayed ? ordered : ordered.slice(1)) {
      found.push({ offender, original, kind: "exact", overlap: 1, grade: copyGrade(1, copy) });
    }
  }
  forEachOverlap(
    current.map((c) => c.fingerprint),
    (i, j, overlap) => {
      const a = current[i] as CopyCandidate;
      const b = current[j] as CopyCandidate;
      if (overlap < copy.idx_overlap_threshold || a.tensorDigest === b.tensorDigest) return;
      const [original, offender] = receiptOrder(a, b) <= 0 ? [a, b] : [b, a];
      found.push({ offender, original, kind: "near", overlap, grade: copyGrade(overlap, copy) });
    },
  );
  return found;
}
