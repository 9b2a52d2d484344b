// How `npm run weights` (and its --dry-run's latest set) describes a weight set: its mode and,
// for a timelocked one, the drand round, reveal epoch and whether the chain revealed or dropped it.
import { describe, expect, it } from "vitest";
import type { WeightSetJson } from "../../schema/api/public.ts";
import { describeSet } from "../../scripts/weights.ts";

const base: WeightSetJson = {
  id: 1,
  window: 40,
  netuid: 3,
  status: "pending",
  mode: null,
  uids: [1],
  weights: [1],
  values: [65535],
  version_key: "0",
  attempts: 0,
  next_attempt_at_ms: 0,
  error: null,
  tx_hash: null,
  commit_block: null,
  set_block: null,
  reveal_round: null,
  reveal_epoch_start_block: null,
  commit_epoch: null,
  created_at_ms: 0,
  updated_at_ms: 0,
  events: [],
};

describe("describeSet", () => {
  it("names the mode, and for a timelocked set its round, reveal epoch and outcome", () => {
    expect(describeSet(base)).toBe("window 40, pending (not sent yet, 0 failed attempts)");
    expect(describeSet({ ...base, status: "set", mode: "direct", set_block: 90 })).toBe(
      "window 40, set in block 90 (direct, 0 failed attempts)",
    );
    const timelocked = { ...base, mode: "timelocked", reveal_round: 1000, reveal_epoch_start_block: 300 } as const;
    expect(describeSet({ ...timelocked, status: "timelocked", commit_epoch: 26 })).toBe(
      "window 40, timelocked (timelocked, drand round 1000, committed in epoch 26, reveal epoch from block 300, 0 failed attempts)",
    );
    expect(describeSet({ ...timelocked, status: "set", set_block: 301, commit_epoch: 26 })).toBe(
      "window 40, set in block 301 (timelocked, drand round 1000, committed in epoch 26, reveal epoch from block 300, revealed, 0 failed attempts)",
    );
    expect(
      describeSet({
        ...timelocked,
        status: "dropped",
        error: { code: "WEIGHTS_REVEAL_DROPPED", message: "unrevealed" },
      }),
    ).toBe(
      "window 40, dropped (timelocked, drand round 1000, reveal epoch from block 300, dropped by the chain, 0 failed attempts; last error WEIGHTS_REVEAL_DROPPED: unrevealed)",
    );
  });
});
