/**
 * Whose gradients make the outer step of a window (docs/SPEC.md §2.6): the uids the weights pay
 * (gather tier plus reserves, by the latest final scores); while nobody is rated yet, every valid
 * submission (the runner then drops gradients whose norm is zero or not finite). The burn uid and
 * banned uids are never peers.
 */
import type { WeightHparams } from "../hparams.ts";
import { weightVector } from "./weights.ts";

export interface PeerCandidate {
  readonly uid: number;
  readonly submissionId: number;
}

export interface PeerList {
  readonly mode: "rated" | "unrated";
  readonly peers: readonly PeerCandidate[];
  readonly skipped: readonly { uid: number; reason: string }[];
}

/** The peers of a window from its valid submissions, the uids' final scores and their bans. */
export function choosePeers(
  valid: readonly PeerCandidate[],
  finalScores: ReadonlyMap<number, number>,
  banned: ReadonlySet<number>,
  hp: WeightHparams,
): PeerList {
  const skipped: { uid: number; reason: string }[] = [];
  const eligible = valid.filter((c) => {
    if (c.uid === hp.burn_uid) skipped.push({ uid: c.uid, reason: "the burn uid" });
    else if (banned.has(c.uid)) skipped.push({ uid: c.uid, reason: "banned for copying" });
    else return true;
    return false;
  });
  const { gather, reserve } = weightVector(finalScores, hp);
  const paid = [...gather, ...reserve];
  if (paid.length === 0) return { mode: "unrated", peers: eligible, skipped };

  const byUid = new Map(eligible.map((c) => [c.uid, c]));
  const left = new Set(skipped.map((s) => s.uid));
  const peers: PeerCandidate[] = [];
  for (const uid of paid) {
    const c = byUid.get(uid);
    if (c) peers.push(c);
    else if (!left.has(uid)) skipped.push({ uid, reason: "in the peer list without a valid submission" });
  }
  const inList = new Set(paid);
  for (const c of eligible) if (!inList.has(c.uid)) skipped.push({ uid: c.uid, reason: "not in the peer list" });
  return { mode: "rated", peers, skipped };
}
