// `npm start`'s command line before anything starts: --help prints the usage and exits 0; an
// unknown option or a profile the local chain cannot run exits 2 with a message, not a stack trace.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const START = path.join(import.meta.dirname, "../../scripts/start.ts");
const run = (...args: string[]) => spawnSync(process.execPath, [START, ...args], { encoding: "utf8", timeout: 60_000 });

describe("npm start's command line", () => {
  it("--help prints every option and exits 0", () => {
    const r = run("--help");
    expect(r.status).toBe(0);
    for (const option of ["--windows", "--honest", "--no-adversaries", "--profile", "--table", "--dir"])
      expect(r.stdout).toContain(option);
  });

  it("refuses an unknown option, a manifest-only profile and another chain's pacing with exit 2 and a reason", () => {
    const cases: [string[], RegExp][] = [
      [["--bogus"], /start: Unknown option '--bogus'[\s\S]*--windows N/],
      [["--profile", "templar-72b"], /start: profile templar-72b is manifest-only/],
      [["--profile", "templar-150m"], /expects 125 blocks of 12000 ms a window; the local chain builds 20 of 3000 ms/],
      [["--profile", "nope"], /start: unknown profile nope \(known: default, local, llama-tiny/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
