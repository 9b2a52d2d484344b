// The gpu-runner's log lines: JSON with the lease, window and uid ids and the human sentence, or plain text.
import { describe, expect, it } from "vitest";
import { runnerLog, runnerLogLine } from "../../gpu-runner/runner-log.ts";

describe("runner log", () => {
  it("writes one parseable JSON line per event, with its ids and the sentence as msg", () => {
    const out: string[] = [];
    const err: string[] = [];
    const log = runnerLog(
      "json",
      (l) => out.push(l),
      (l) => err.push(l),
    );
    log("submission.evaluated", "lease 7: 1/2 uid 3: loss own 5.5 → 5.4", {
      lease_id: 7,
      window: 12,
      uid: 3,
      submission_id: 41,
      kind: "evaluate",
    });
    log("lease.failed", "lease 7: failed: boom", { lease_id: 7, window: 12, code: "INTERNAL" }, "error");
    expect(out).toHaveLength(1);
    expect(out[0]).not.toContain("\n");
    expect(JSON.parse(out[0] as string)).toEqual({
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: "info",
      event: "submission.evaluated",
      msg: "lease 7: 1/2 uid 3: loss own 5.5 → 5.4",
      lease_id: 7,
      window: 12,
      uid: 3,
      submission_id: 41,
      kind: "evaluate",
    });
    expect(JSON.parse(err[0] as string)).toMatchObject({ level: "error", event: "lease.failed", code: "INTERNAL" });
  });

  it("prints the timestamp and the sentence in text format", () => {
    const at = Date.UTC(2026, 10, 22, 12, 0, 0);
    expect(runnerLogLine("text", "lease.returned", "lease 9: returned (stopping)", { lease_id: 9 }, "info", at)).toBe(
      "2026-11-22T12:00:00.000Z lease 9: returned (stopping)",
    );
  });
});
