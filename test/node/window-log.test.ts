// npm start's table of a run: every uid's weight is in it, a uid outside the lineup (a miner
// someone brought to the local chain) under "other uids", so the columns always sum to 100%.
import { describe, expect, it } from "vitest";
import type { WindowReportJson } from "../../schema/api/public.ts";
import { type Roster, runTable, type WindowRecord } from "../../scripts/local-network/window-log.ts";

describe("npm start's run table", () => {
  it("puts weight on a uid outside the lineup under 'other uids'", () => {
    const roster: Roster = {
      personas: new Map([
        [2, "honest"],
        [3, "copier"],
      ]),
      burnUid: 1,
    };
    const record: WindowRecord = {
      window: 7,
      report: { outer_step: null } as unknown as WindowReportJson,
      scores: [],
      chainWeights: new Map([
        [1, 0.5],
        [2, 0.3],
        [42, 0.2],
      ]),
      weightSet: null,
    };
    const [head, , row] = runTable([record], roster).split("\n");
    expect(head).toBe(
      "| window | held-out bpb of θ_S | of θ_{S+1} | honest | copier | other uids | least honest miner | burn |",
    );
    expect(row).toBe("| 7 | — | — | 30.0% | 0.0% | 20.0% | 30.0% | 50.0% |");
  });
});
