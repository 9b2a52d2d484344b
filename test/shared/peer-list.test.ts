// Whose gradients enter θ_{S+1} (SPEC §2.6): every exclusion on its own, the genesis rule (before
// anyone is rated: only gradients that improved the random-sample loss) and the window in which
// nobody is rated positive once someone has been (no peers: θ carries over).
import { describe, expect, it } from "vitest";
import { PROFILES } from "../../schema/hparams.ts";
import { choosePeers, type EvaluatedCandidate } from "../../schema/scoring/peer-list.ts";

const hp = { ...PROFILES.local.weights, gather_peer_count: 2, reserve_peer_count: 1 };
const BURN = hp.burn_uid;

/** A candidate whose evaluation succeeded with this random-sample improvement. */
const good = (uid: number, gradientScore = 0.01): EvaluatedCandidate => ({
  uid,
  submissionId: 100 + uid,
  evaluated: true,
  gradientScore,
});
/** A candidate whose evaluation failed or measured a non-finite loss. */
const failed = (uid: number): EvaluatedCandidate => ({
  uid,
  submissionId: 100 + uid,
  evaluated: false,
  gradientScore: null,
});

const finals = (entries: Record<number, number>) => new Map(Object.entries(entries).map(([u, s]) => [Number(u), s]));
const uidsOf = (peers: readonly { uid: number }[]) => peers.map((p) => p.uid);
const reasonOf = (list: ReturnType<typeof choosePeers>, uid: number) => list.skipped.find((s) => s.uid === uid)?.reason;

describe("the peer list, once anyone is rated", () => {
  const rated = finals({ 2: 3, 3: 2, 4: 1, 5: 0.5, 6: 0, 7: -1 });

  it("takes the paid uids' gradients, gather tier then reserve, with their submission ids", () => {
    const list = choosePeers([good(2), good(3), good(4), good(5)], rated, new Set(), true, hp);
    expect(list.mode).toBe("rated");
    expect(list.peers).toEqual([
      { uid: 2, submissionId: 102 },
      { uid: 3, submissionId: 103 },
      { uid: 4, submissionId: 104 },
    ]);
    expect(reasonOf(list, 5)).toBe("not in the peer list"); // rated positive but past gather + reserve
  });

  it("leaves out a paid uid whose evaluation failed or was not finite", () => {
    const list = choosePeers([good(2), failed(3), good(4)], rated, new Set(), true, hp);
    expect(uidsOf(list.peers)).toEqual([2, 4]);
    expect(reasonOf(list, 3)).toBe("its evaluation failed or was not finite");
  });

  it("leaves out a paid uid with no valid submission this window", () => {
    const list = choosePeers([good(2), good(4)], rated, new Set(), true, hp);
    expect(uidsOf(list.peers)).toEqual([2, 4]);
    expect(reasonOf(list, 3)).toBe("in the peer list without a valid, evaluated submission");
  });

  it("leaves out uids rated zero or below, however much their gradient helped", () => {
    const list = choosePeers([good(2), good(6, 0.5), good(7, 0.9)], rated, new Set(), true, hp);
    expect(uidsOf(list.peers)).toEqual([2]);
    expect(reasonOf(list, 6)).toBe("not in the peer list");
    expect(reasonOf(list, 7)).toBe("not in the peer list");
  });

  it("never takes a banned uid or the burn uid", () => {
    const withBurn = finals({ 2: 3, 3: 2, [BURN]: 5 });
    const list = choosePeers([good(2), good(3), good(BURN)], withBurn, new Set([3]), true, hp);
    expect(uidsOf(list.peers)).toEqual([2]);
    expect(reasonOf(list, 3)).toBe("banned for copying");
    expect(reasonOf(list, BURN)).toBe("the burn uid");
  });

  it("has no peers when nobody is rated positive: θ carries over, no fallback to every gradient", () => {
    const list = choosePeers([good(2, 0.2), good(3, 0.3)], finals({ 2: 0, 3: -1 }), new Set(), true, hp);
    expect(list).toMatchObject({ mode: "rated", peers: [] });
    expect(reasonOf(list, 2)).toBe("nobody is rated positive: θ carries over");
  });
});

describe("the peer list at genesis, before anyone has ever been rated positive", () => {
  it("takes the evaluated gradients that improved the random-sample loss, and only those", () => {
    const list = choosePeers(
      [good(2, 0.02), good(3, 0), good(4, -0.01), failed(5), good(6, 0.03)],
      new Map(),
      new Set([6]),
      false,
      hp,
    );
    expect(list.mode).toBe("unrated");
    expect(list.peers).toEqual([{ uid: 2, submissionId: 102 }]);
    expect(reasonOf(list, 3)).toBe("genesis: it did not improve the loss on the random samples");
    expect(reasonOf(list, 4)).toBe("genesis: it did not improve the loss on the random samples");
    expect(reasonOf(list, 5)).toBe("its evaluation failed or was not finite");
    expect(reasonOf(list, 6)).toBe("banned for copying");
  });

  it("has no peers when no gradient improved anything", () => {
    const list = choosePeers([good(2, -0.1), failed(3)], finals({ 2: 0 }), new Set(), false, hp);
    expect(list).toMatchObject({ mode: "unrated", peers: [] });
  });
});
