// The weights mode from chain state (workers/weights/weights-mode.ts): every combination of
// commit-reveal on/off, timelocked commits in the runtime or not, and the operator's preference;
// the deployment settings that carry the preference and the mechanism id.
import { describe, expect, it } from "vitest";
import { EdgeError } from "../../schema/errors.ts";
import { deploymentConfig } from "../../workers/config.ts";
import {
  chooseWeightsMode,
  parseWeightsModePreference,
  type WeightsMode,
  type WeightsModePreference,
} from "../../workers/weights/weights-mode.ts";

describe("chooseWeightsMode", () => {
  // [commit-reveal on, timelocked call in the runtime, preference, mode, preference ignored]
  const table: [boolean, boolean, WeightsModePreference, WeightsMode, boolean][] = [
    // commit-reveal off: only set_weights
    [false, true, "auto", "direct", false],
    [false, false, "auto", "direct", false],
    [false, true, "direct", "direct", false],
    [false, true, "timelocked", "direct", true],
    [false, false, "hash-commit-reveal", "direct", true],
    // on, today's finney: timelocked unless the operator prefers the hash path
    [true, true, "auto", "timelocked", false],
    [true, true, "timelocked", "timelocked", false],
    [true, true, "hash-commit-reveal", "hash-commit-reveal", false],
    [true, true, "direct", "timelocked", true],
    // on, a runtime without timelocked commits (spec 218)
    [true, false, "auto", "hash-commit-reveal", false],
    [true, false, "hash-commit-reveal", "hash-commit-reveal", false],
    [true, false, "timelocked", "hash-commit-reveal", true],
    [true, false, "direct", "hash-commit-reveal", true],
  ];

  it.each(table)("commit-reveal %s, timelocked call %s, preference %s → %s", (on, tlock, preference, mode, ignored) => {
    const choice = chooseWeightsMode({ commitRevealEnabled: on, timelockedCallAvailable: tlock, preference });
    expect(choice.mode).toBe(mode);
    expect(choice.preferenceIgnored).toBe(ignored);
    expect(choice.reason).toMatch(/^[a-z].*\.$/); // one sentence
    expect(choice.reason).toContain(on ? "commit-reveal is on" : "commit-reveal is off");
    if (ignored) expect(choice.reason).toContain(`the operator asked for ${preference}, but`);
  });

  it("follows the chain when no preference is given", () => {
    expect(chooseWeightsMode({ commitRevealEnabled: true, timelockedCallAvailable: true })).toEqual({
      mode: "timelocked",
      reason:
        "commit-reveal is on and the runtime has timelocked commits: one commit encrypted to a drand round, revealed by the chain.",
      preferenceIgnored: false,
    });
    expect(chooseWeightsMode({ commitRevealEnabled: false, timelockedCallAvailable: true })).toEqual({
      mode: "direct",
      reason: "commit-reveal is off on this subnet, so the chain takes set_weights and refuses commits.",
      preferenceIgnored: false,
    });
  });

  it("says why an operator's preference was not followed", () => {
    expect(
      chooseWeightsMode({ commitRevealEnabled: true, timelockedCallAvailable: false, preference: "direct" }).reason,
    ).toBe(
      "the operator asked for direct, but set_weights fails while commit-reveal is on and the runtime has no timelocked commits: commit_weights, then reveal_weights in the reveal epoch.",
    );
  });
});

describe("parseWeightsModePreference", () => {
  it("reads a setting: empty or auto follow the chain, a mode is a preference, anything else is CONFIG_INVALID", () => {
    expect(parseWeightsModePreference(undefined)).toBe("auto");
    expect(parseWeightsModePreference("")).toBe("auto");
    expect(parseWeightsModePreference(" auto ")).toBe("auto");
    expect(parseWeightsModePreference("timelocked")).toBe("timelocked");
    expect(parseWeightsModePreference("hash-commit-reveal")).toBe("hash-commit-reveal");
    expect(parseWeightsModePreference("direct")).toBe("direct");
    for (const bad of ["Timelocked", "commit-reveal", "crv3"]) {
      expect(() => parseWeightsModePreference(bad)).toThrow(EdgeError);
      try {
        parseWeightsModePreference(bad);
      } catch (e) {
        expect((e as EdgeError).code).toBe("CONFIG_INVALID");
      }
    }
  });
});

describe("deploymentConfig's weights settings", () => {
  const vars = { HPARAMS_PROFILE: "local", NETUID: "3", CHAIN_URL: "https://x", WEIGHTS_VERSION_KEY: "0" };

  it("defaults to auto and no mechanism, reads WEIGHTS_MODE and WEIGHTS_MECHANISM_ID, refuses malformed ones", () => {
    expect(deploymentConfig(vars)).toMatchObject({ weightsMode: "auto", weightsMechanismId: null });
    expect(deploymentConfig({ ...vars, WEIGHTS_MODE: "hash-commit-reveal", WEIGHTS_MECHANISM_ID: "1" })).toMatchObject({
      weightsMode: "hash-commit-reveal",
      weightsMechanismId: 1,
    });
    expect(deploymentConfig({ ...vars, WEIGHTS_MECHANISM_ID: " " })).toMatchObject({ weightsMechanismId: null });
    for (const bad of [{ WEIGHTS_MODE: "crv3" }, { WEIGHTS_MECHANISM_ID: "16" }, { WEIGHTS_MECHANISM_ID: "-1" }]) {
      const error = (() => {
        try {
          deploymentConfig({ ...vars, ...bad });
        } catch (e) {
          return e;
        }
      })();
      expect(error, JSON.stringify(bad)).toMatchObject({ code: "CONFIG_INVALID" });
    }
  });
});
