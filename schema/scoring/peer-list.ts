/**
 * Whose gradients make the outer step of a window (docs/SPEC.md §2.6), chosen once the window is
 * evaluated: among the gradients whose evaluation succeeded with finite losses, those of the uids
 * the weights pay (gather tier plus reserves, by the final scores before this window). At genesis,
 * before anyone has ever been rated positive, those that improved the loss on the window's random
 * samples. Once someone has been rated, a window in which nobody is rated positive has no peers:
 * θ carries over. The burn uid and banned uids are never peers.
 */
import type { WeightHparams } from "../hparams.ts";
import { weightVector } from "./weights.ts";

export interface PeerCandidate {
  readonly uid: number;
  readonly submissionId: number;
}

/** A valid, non-copied submission of the window and what its evaluation said. */
export interface EvaluatedCandidate extends PeerCandidate {
  /** The evaluation succeeded and every loss it measured is finite. */
  readonly evaluated: boolean;
  /** Its relative loss improvement on the window's random samples (null when not evaluated). */
  readonly gradientScore: number | null;
}

export interface PeerList {
  /** "unrated": genesis, nobody rated positive yet; "rated": by the weights. */
  readonly mode: "rated" | "unrated";
  readonly peers: readonly PeerCandidate[];
  readonly skipped: readonly { uid: number; reason: string }[];
}

/**
 * The peers of a window from its evaluated candidates, the uids' final scores before it, their
 * bans, and whether anyone has ever had a positive final score.
 */
export function choosePeers(
  candidates: readonly EvaluatedCandidate[],
  finalScores: ReadonlyMap<number, number>,
  banned: ReadonlySet<number>,
  everRated: boolean,
  hp: WeightHparams,
): PeerList {
  const skipped: { uid: number; reason: string }[] = [];
  const skip = (uid: number, reason: string) => void skipped.push({ uid, reason });
  const eligible = candidates.filter((c) => {
    if (c.uid === hp.burn_uid) skip(c.uid, "the burn uid");
    else if (banned.has(c.uid)) skip(c.uid, "banned for copying");
    else if (!c.evaluated) skip(c.uid, "its evaluation failed or was not finite");
    else return true;
    return false;
  });
  const { gather, reserve } = weightVector(finalScores, hp);
  const paid = [...gather, ...reserve];
  if (paid.length === 0) {
    if (everRated) {
      for (const c of eligible) skip(c.uid, "nobody is rated positive: θ carries over");
      return { mode: "rated", peers: [], skipped };
    }
    const peers = eligible.filter((c) => {
      if ((c.gradientScore ?? 0) > 0) return true;
      skip(c.uid, "genesis: it did not improve the loss on the random samples");
      return false;
    });
    return { mode: "unrated", peers: peers.map(({ uid, submissionId }) => ({ uid, submissionId })), skipped };
  }

  const byUid = new Map(eligible.map((c) => [c.uid, c]));
  const left = new Set(skipped.map((s) => s.uid));
  const peers: PeerCandidate[] = [];
  for (const uid of paid) {
    const c = byUid.get(uid);
    if (c) peers.push({ uid: c.uid, submissionId: c.submissionId });
    else if (!left.has(uid)) skip(uid, "in the peer list without a valid, evaluated submission");
  }
  const inList = new Set(paid);
  for (const c of eligible) if (!inList.has(c.uid)) skip(c.uid, "not in the peer list");
  return { mode: "rated", peers, skipped };
}
