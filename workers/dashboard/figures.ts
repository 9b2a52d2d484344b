/** How the dashboard writes numbers, times and keys for people (pure; the views escape the result). */

const DASH = "—";

/** A number with `digits` decimals; a dash for null or non-finite. */
export function fixed(v: number | null | undefined, digits = 3): string {
  return v == null || !Number.isFinite(v) ? DASH : v.toFixed(digits);
}

/** A share as a percentage with two decimals. */
export function percent(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? DASH : `${(v * 100).toFixed(2)}%`;
}

/** A hotkey shortened to its ends (the full key goes in a title). */
export function shortKey(key: string | null): string {
  if (!key) return DASH;
  return key.length > 14 ? `${key.slice(0, 6)}…${key.slice(-6)}` : key;
}

/** A Unix-ms time as UTC, to the second. */
export function utc(ms: number | null | undefined): string {
  return ms == null ? DASH : `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A duration until a time: "m:ss" under an hour, "h h m min" above (the countdown script writes the same). */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** How long ago a time was, in whole seconds or minutes. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

/** Counts by name as "name n · name n", largest first; a dash when there are none. */
export function counts(byName: Readonly<Record<string, number>>): string {
  const entries = Object.entries(byName).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.length ? entries.map(([k, n]) => `${k} ${n}`).join(" · ") : DASH;
}
