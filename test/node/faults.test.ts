// The fault suite (`npm run faults`) on a short run: the local network with honest miners only —
// the real subtensor runtime under chopsticks, the validator in wrangler dev, a runner, reference
// miners — rides out a runner SIGKILLed mid-batch, the validator (wrangler dev and workerd)
// SIGKILLed and started again inside a put window, and the chain SIGSTOPped for a minute inside
// the next one: no row lost or counted twice, every honest upload accepted and evaluated, each
// window done within its budget plus its faults. Nothing is mocked.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { faultReport, runFaultSuite } from "../../scripts/faults/fault-suite.ts";
import { SPEC_SOURCE, specAvailable } from "../../scripts/local-chain/subtensor-spec.ts";

const available = specAvailable();
if (!available) console.warn(`SKIPPED fault suite: the subtensor spec is absent at ${SPEC_SOURCE} (CI has it)`);

describe.skipIf(!available)("the fault suite (npm run faults)", () => {
  it(
    "rides out a runner killed mid-batch, a validator restart in a put window and a chain stalled for 60 s",
    async () => {
      const lines: string[] = [];
      const result = await runFaultSuite({
        dir: mkdtempSync(path.join(tmpdir(), "faults-")),
        honest: 3,
        stallMs: 60_000,
        log: (line) => lines.push(line),
      });
      console.log(`${lines.join("\n")}\n\n${faultReport(result)}`);

      expect(result.faults.map((f) => f.kind)).toEqual(["runner", "validator", "chain"]);
      for (const c of result.checks) expect(c.ok, `${c.name}: ${c.detail}`).toBe(true);
      expect(result.checks.length).toBeGreaterThanOrEqual(10);
      expect(result.recoveries.map((r) => r.recoveredMs)).not.toContain(null);
      // npm start's window lines say what it rode out.
      const faultLines = result.lines.filter((l) => l.includes("faults: "));
      expect(faultLines.join("\n")).toMatch(/the runner exited \(SIGKILL\): started again/);
      expect(faultLines.join("\n")).toMatch(/the validator answers again/);
      expect(faultLines.join("\n")).toMatch(/the local chain builds blocks again after/);
    },
    20 * 60_000,
  );
});
