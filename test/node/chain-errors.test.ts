// What the chain says about a weights transaction, as EdgeError codes (workers/chain/chain-errors.ts):
// every dispatch error and pool custom code of spec 425 that weights calls can meet, spec 218's
// pool dialect, both wordings of a pool refusal (a node's RpcError, chopsticks' JSON), and the raw
// text kept under a generic code for anything unknown. Spec 425's codes cannot be produced offline:
// the table is subtensor common/src/transaction_error.rs:38-73.
import { describe, expect, it } from "vitest";
import { EdgeError, ERROR_CODES, type ErrorCode } from "../../schema/errors.ts";
import { chainRefusal, isPoolRejection, LAST_LEGACY_POOL_SPEC } from "../../workers/chain/chain-errors.ts";

const SPEC_218 = 218;
const SPEC_425 = 425;

/** What @polkadot/api 16.5.6 throws for a pool refusal: RpcError(`${code}: ${message}: ${data}`, code, data). */
function rpcError(code: number, message: string, data?: unknown): Error {
  const text = `${code}: ${message}${data === undefined ? "" : `: ${typeof data === "string" ? data : JSON.stringify(data)}`}`;
  return Object.assign(new Error(text), { code, data });
}

describe("dispatch errors (the same names on spec 218 and 425)", () => {
  const cases: [string, ErrorCode][] = [
    // commit_timelocked_* in check order (weights.rs:297-382), then the dispatch guards
    ["MechanismDoesNotExist", "MECHANISM_NOT_FOUND"],
    ["CommitRevealDisabled", "COMMIT_REVEAL_DISABLED"],
    ["IncorrectCommitRevealVersion", "COMMIT_REVEAL_VERSION_MISMATCH"],
    ["HotKeyNotRegisteredInSubNet", "VALIDATOR_NOT_REGISTERED"],
    ["CommittingWeightsTooFast", "WEIGHTS_RATE_LIMITED"],
    ["TooManyUnrevealedCommits", "TOO_MANY_UNREVEALED_COMMITS"],
    ["NotEnoughStakeToSetWeights", "VALIDATOR_STAKE_LOW"],
    ["InvalidRevealRound", "REVEAL_ROUND_INVALID"],
    // set_weights / set_mechanism_weights: internal_set_weights (weights.rs:748-861)
    ["CommitRevealEnabled", "COMMIT_REVEAL_ENABLED"],
    ["CanNotSetRootNetworkWeights", "WEIGHTS_INVALID"],
    ["WeightVecNotEqualSize", "WEIGHTS_INVALID"],
    ["UidsLengthExceedUidsInSubNet", "WEIGHTS_INVALID"],
    ["IncorrectWeightVersionKey", "WEIGHTS_VERSION_KEY_LOW"],
    ["SettingWeightsTooFast", "WEIGHTS_RATE_LIMITED"],
    ["NeuronNoValidatorPermit", "VALIDATOR_NO_PERMIT"],
    ["DuplicateUids", "WEIGHTS_INVALID"],
    ["UidVecContainInvalidOne", "WEIGHTS_INVALID"],
    ["WeightVecLengthIsLow", "WEIGHTS_INVALID"],
    ["MaxWeightExceeded", "WEIGHTS_INVALID"],
    // hash commit-reveal (weights.rs:61-142, 451-564)
    ["NoWeightsCommitFound", "COMMIT_NOT_FOUND"],
    ["InvalidRevealCommitHashNotMatch", "COMMIT_NOT_FOUND"],
    ["ExpiredWeightCommit", "REVEAL_EXPIRED"],
    ["RevealTooEarly", "REVEAL_TOO_EARLY"],
    // batch calls; coldkey swaps (the dispatch guard)
    ["InputLengthsUnequal", "WEIGHTS_INVALID"],
    ["ColdkeySwapAnnounced", "COLDKEY_SWAP_PENDING"],
    ["ColdkeySwapDisputed", "COLDKEY_SWAP_PENDING"],
  ];

  it.each(cases)("subtensorModule.%s → %s", (name, code) => {
    const e = chainRefusal(`subtensorModule.${name}`);
    expect(e).toBeInstanceOf(EdgeError);
    expect(e.code).toBe(code);
    expect(e.details).toEqual({ error: `subtensorModule.${name}`, source: "block" });
    expect(chainRefusal(`subtensorModule.${name}`, SPEC_218).code).toBe(code); // names do not depend on the spec
  });

  it("keeps any other name, or another pallet's error of the same name, under WEIGHTS_REJECTED with the name", () => {
    for (const name of ["subtensorModule.SomethingNew", "commitments.RevealTooEarly", "BadOrigin", "Other"]) {
      const e = chainRefusal(name);
      expect(e.code, name).toBe("WEIGHTS_REJECTED");
      expect(e.details?.error).toBe(name);
      expect(e.message).toContain(name);
    }
  });
});

describe("pool custom codes, spec 425", () => {
  const cases: [number, ErrorCode, string][] = [
    [0, "COLDKEY_SWAP_PENDING", "ColdkeyInSwapSchedule"],
    [1, "VALIDATOR_STAKE_LOW", "StakeAmountTooLow"],
    [6, "WEIGHTS_RATE_LIMITED", "RateLimitExceeded"],
    [15, "REVEAL_ROUND_INVALID", "InvalidRevealRound"],
    [16, "COMMIT_NOT_FOUND", "CommitNotFound"],
    [17, "REVEAL_NOT_IN_RANGE", "CommitBlockNotInRevealRange"],
    [18, "WEIGHTS_INVALID", "InputLengthsUnequal"],
    [19, "VALIDATOR_NOT_REGISTERED", "UidNotFound"],
    [21, "COLDKEY_SWAP_PENDING", "ColdkeySwapDisputed"],
    [255, "WEIGHTS_REJECTED", "BadRequest"],
  ];

  it.each(cases)("custom %i → %s (%s), in each wording", (n, code, name) => {
    const wordings: unknown[] = [
      `1010: Invalid Transaction: Custom error: ${n}`, // the message alone
      rpcError(1010, "Invalid Transaction", `Custom error: ${n}`), // @polkadot/api's RpcError
      Object.assign(new Error("1010: Invalid Transaction"), { code: 1010, data: `Custom error: ${n}` }), // data only
      `undefined: {"invalid":{"custom":${n}}}`, // chopsticks' message
      new Error(`undefined: {"invalid":{"custom":${n}}}`), // chopsticks' error as HttpProvider throws it
    ];
    for (const said of wordings) {
      const e = chainRefusal(said, SPEC_425);
      expect(e.code, String(said)).toBe(code);
      expect(e.details).toMatchObject({ source: "pool", customCode: n, specVersion: SPEC_425, error: name });
    }
    expect(chainRefusal(wordings[0]).code).toBe(code); // no spec given: read as 425
  });

  it("keeps an unknown custom code's raw text under WEIGHTS_REJECTED", () => {
    for (const n of [3, 7, 20, 27, 99]) {
      const e = chainRefusal(rpcError(1010, "Invalid Transaction", `Custom error: ${n}`), SPEC_425);
      expect(e.code).toBe("WEIGHTS_REJECTED");
      expect(e.details).toMatchObject({
        source: "pool",
        customCode: n,
        error: `1010: Invalid Transaction: Custom error: ${n}`,
      });
      expect(e.message).toContain("unknown custom code");
    }
  });

  it("keeps a refusal with no custom code (stale nonce, bad signature) as its first line under WEIGHTS_REJECTED", () => {
    const stale = chainRefusal(
      '1010: Invalid Transaction: Transaction is outdated\nFailed HTTP Request: {"params":["0x…"]}',
    );
    expect(stale.code).toBe("WEIGHTS_REJECTED");
    expect(stale.details).toEqual({ error: "1010: Invalid Transaction: Transaction is outdated", source: "pool" });
    const badProof = chainRefusal(rpcError(1010, "Invalid Transaction", "Transaction has a bad signature"));
    expect(badProof.details?.error).toBe("1010: Invalid Transaction: Transaction has a bad signature");
    expect(chainRefusal(rpcError(1014, "Priority is too low")).code).toBe("WEIGHTS_REJECTED");
    expect(chainRefusal('undefined: {"invalid":{"stale":null}}').details?.error).toBe('{"invalid":{"stale":null}}');
  });
});

describe("pool custom codes, spec ≤ 218", () => {
  it("reads 1, 2 and 3 as stake too low (commit, reveal, set), and nothing else", () => {
    expect(LAST_LEGACY_POOL_SPEC).toBe(SPEC_218);
    for (const [n, name] of [
      [1, "NotEnoughStakeToCommitWeights"],
      [2, "NotEnoughStakeToRevealWeights"],
      [3, "NotEnoughStakeToSetWeights"],
    ] as const) {
      const e = chainRefusal(`undefined: {"invalid":{"custom":${n}}}`, SPEC_218);
      expect(e.code).toBe("VALIDATOR_STAKE_LOW");
      expect(e.details).toMatchObject({ source: "pool", customCode: n, specVersion: SPEC_218, error: name });
    }
    expect(chainRefusal('{"invalid":{"custom":6}}', SPEC_218).code).toBe("WEIGHTS_REJECTED"); // 425's rate limit
    expect(chainRefusal('{"invalid":{"custom":3}}', SPEC_425).code).toBe("WEIGHTS_REJECTED"); // 425's SubnetNotExists
    expect(chainRefusal('{"invalid":{"custom":3}}', 219).code).toBe("WEIGHTS_REJECTED"); // above 218: read as 425
  });
});

describe("isPoolRejection", () => {
  it("tells a pool refusal from a node that cannot be reached", () => {
    expect(isPoolRejection(Object.assign(new Error("1014: Priority is too low"), { code: 1014 }))).toBe(true);
    expect(isPoolRejection(rpcError(1010, "Invalid Transaction", "Custom error: 15"))).toBe(true);
    expect(isPoolRejection(new Error('undefined: {"invalid":{"stale":null}}'))).toBe(true);
    expect(isPoolRejection(new Error("fetch failed"))).toBe(false);
    expect(isPoolRejection(new Error("[502]: Bad Gateway"))).toBe(false);
  });
});

describe("the codes", () => {
  it("are in the catalog as chain refusals with status 502", () => {
    const codes = new Set<ErrorCode>([
      "MECHANISM_NOT_FOUND",
      "COMMIT_REVEAL_DISABLED",
      "COMMIT_REVEAL_VERSION_MISMATCH",
      "REVEAL_ROUND_INVALID",
      "TOO_MANY_UNREVEALED_COMMITS",
      "REVEAL_NOT_IN_RANGE",
      "COMMIT_NOT_FOUND",
      "VALIDATOR_NO_PERMIT",
      "WEIGHTS_INVALID",
      "COLDKEY_SWAP_PENDING",
    ]);
    for (const code of codes) expect(ERROR_CODES[code], code).toMatchObject({ status: 502, stage: "chain" });
  });
});
