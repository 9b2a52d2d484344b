// Runner tokens are handed to the runner CLI as `--token TOKEN`: none may look like an option.
import { describe, expect, it } from "vitest";
import { newRunnerToken } from "../../scripts/runner-token.ts";

describe("runner tokens", () => {
  it("never start with '-', carry 256 random bits, and do not repeat", () => {
    const tokens = Array.from({ length: 4096 }, newRunnerToken);
    // A bare base64url token starts with "-" once in 64: 4096 of them would all but surely show one.
    expect(tokens.filter((t) => !/^rt_[A-Za-z0-9_-]{43}$/.test(t))).toEqual([]);
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});
