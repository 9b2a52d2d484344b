/**
 * The one place that turns what the chain says into an EdgeError: a node that does not answer
 * (CHAIN_UNAVAILABLE), and what it says about a weights transaction.
 *
 * The chain says it in two ways. A transaction that reaches a block but fails carries a
 * dispatch error, "pallet.Error" (e.g. "subtensorModule.SettingWeightsTooFast"), whose names are
 * the same on spec 218 and 425. A transaction the pool refuses never gets that far: the JSON-RPC
 * call fails with `1010: Invalid Transaction: Custom error: N` (a node; @polkadot/api's RpcError
 * also carries `code` 1010 and `data` "Custom error: N") or a JSON `{"invalid":{"custom":N}}`
 * (chopsticks), and what N means depends on the runtime (docs/LOCAL_CHAIN.md §5).
 */
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";
import type { SubmittedTx } from "./chain-client.ts";

/**
 * CHAIN_UNAVAILABLE for a chain call that failed (`what`: "the head", "block 40", …). The public
 * message names only what was asked; the node's own text, which can quote a whole signed
 * extrinsic, is the cause, which goes to the log.
 */
export function chainUnavailable(what: string, cause: unknown): EdgeError {
  return new EdgeError("CHAIN_UNAVAILABLE", `could not reach the chain for ${what}`, undefined, { cause });
}

/** CHAIN_UNAVAILABLE for a chain call that had no answer within the deadline (CHAIN_CALL_TIMEOUT_MS). */
export function chainTimedOut(what: string, timeoutMs: number): EdgeError {
  return new EdgeError("CHAIN_UNAVAILABLE", `could not reach the chain for ${what}: timed out after ${timeoutMs} ms`, {
    timeout_ms: timeoutMs,
  });
}

/**
 * CHAIN_UNAVAILABLE for a transaction the node went silent on after it was handed over: it may
 * be in the pool. `details.submitted` carries it (submittedTx reads it back).
 */
export function handedOver(e: EdgeError, tx: SubmittedTx): EdgeError {
  return new EdgeError(
    "CHAIN_UNAVAILABLE",
    `${e.message} (transaction ${tx.txHash} was handed to the node)`,
    { ...e.details, submitted: tx },
    { cause: e.cause ?? e },
  );
}

/** The transaction a CHAIN_UNAVAILABLE says was handed to the node before it went silent, if any. */
export function submittedTx(e: unknown): SubmittedTx | undefined {
  if (!(e instanceof EdgeError) || e.code !== "CHAIN_UNAVAILABLE") return undefined;
  return e.details?.submitted as SubmittedTx | undefined;
}

/**
 * SubtensorModule's dispatch errors that weights calls can meet on spec 218 and 425 (subtensor
 * pallets/subtensor/src/subnets/weights.rs: the commit, reveal, timelocked-commit and
 * internal_set_weights checks; coldkey swaps from the dispatch guard). Any other name is
 * WEIGHTS_REJECTED, naming it.
 */
const DISPATCH_ERRORS: Readonly<Record<string, ErrorCode>> = {
  SettingWeightsTooFast: "WEIGHTS_RATE_LIMITED",
  CommittingWeightsTooFast: "WEIGHTS_RATE_LIMITED",
  IncorrectWeightVersionKey: "WEIGHTS_VERSION_KEY_LOW",
  HotKeyNotRegisteredInSubNet: "VALIDATOR_NOT_REGISTERED",
  NotEnoughStakeToSetWeights: "VALIDATOR_STAKE_LOW",
  NeuronNoValidatorPermit: "VALIDATOR_NO_PERMIT",
  CommitRevealEnabled: "COMMIT_REVEAL_ENABLED",
  CommitRevealDisabled: "COMMIT_REVEAL_DISABLED",
  IncorrectCommitRevealVersion: "COMMIT_REVEAL_VERSION_MISMATCH",
  InvalidRevealRound: "REVEAL_ROUND_INVALID",
  TooManyUnrevealedCommits: "TOO_MANY_UNREVEALED_COMMITS",
  MechanismDoesNotExist: "MECHANISM_NOT_FOUND",
  RevealTooEarly: "REVEAL_TOO_EARLY",
  ExpiredWeightCommit: "REVEAL_EXPIRED",
  NoWeightsCommitFound: "COMMIT_NOT_FOUND",
  InvalidRevealCommitHashNotMatch: "COMMIT_NOT_FOUND",
  CanNotSetRootNetworkWeights: "WEIGHTS_INVALID",
  WeightVecNotEqualSize: "WEIGHTS_INVALID",
  UidsLengthExceedUidsInSubNet: "WEIGHTS_INVALID",
  DuplicateUids: "WEIGHTS_INVALID",
  UidVecContainInvalidOne: "WEIGHTS_INVALID",
  WeightVecLengthIsLow: "WEIGHTS_INVALID",
  MaxWeightExceeded: "WEIGHTS_INVALID",
  InputLengthsUnequal: "WEIGHTS_INVALID",
  ColdkeySwapAnnounced: "COLDKEY_SWAP_PENDING",
  ColdkeySwapDisputed: "COLDKEY_SWAP_PENDING",
};

type PoolCodes = Readonly<Record<number, readonly [ErrorCode, string]>>;

/**
 * The last spec whose pool speaks the old dialect below. Where the switch to spec 425's
 * numbering happened between 218 and 425 is not known here: a spec in between is read as 425.
 */
export const LAST_LEGACY_POOL_SPEC = 218;

/**
 * Spec ≤ 218 (SubtensorSignedExtension): a hotkey below WeightsMinStake is refused with
 * 1 (commit_weights), 2 (reveal_weights) or 3 (set_weights). Code 3 for set_weights was observed
 * on spec 218 (test/node/chain-weights.test.ts); every other weights check fails in the block.
 */
const LEGACY_POOL_CODES: PoolCodes = {
  1: ["VALIDATOR_STAKE_LOW", "NotEnoughStakeToCommitWeights"],
  2: ["VALIDATOR_STAKE_LOW", "NotEnoughStakeToRevealWeights"],
  3: ["VALIDATOR_STAKE_LOW", "NotEnoughStakeToSetWeights"],
};

/**
 * Spec 425 (`CustomTransactionError`, subtensor common/src/transaction_error.rs:38-73, mapped from
 * pallet errors in pallets/subtensor/src/extensions/subtensor.rs:27-60): every code a weights call
 * can meet, and 19, which they do not raise but whose meaning is plain. They cannot be produced
 * offline (the local runtime is spec 218). 17 is "no commit of this hash is in its reveal epoch":
 * too early or expired, the pool does not say which; the reveal timing (workers/weights/
 * hash-reveal-timing.ts) tells the two apart before sending.
 */
const POOL_CODES_425: PoolCodes = {
  0: ["COLDKEY_SWAP_PENDING", "ColdkeyInSwapSchedule"],
  1: ["VALIDATOR_STAKE_LOW", "StakeAmountTooLow"],
  6: ["WEIGHTS_RATE_LIMITED", "RateLimitExceeded"],
  15: ["REVEAL_ROUND_INVALID", "InvalidRevealRound"],
  16: ["COMMIT_NOT_FOUND", "CommitNotFound"],
  17: ["REVEAL_NOT_IN_RANGE", "CommitBlockNotInRevealRange"],
  18: ["WEIGHTS_INVALID", "InputLengthsUnequal"],
  19: ["VALIDATOR_NOT_REGISTERED", "UidNotFound"],
  21: ["COLDKEY_SWAP_PENDING", "ColdkeySwapDisputed"],
  255: ["WEIGHTS_REJECTED", "BadRequest"],
};

/**
 * A pool refusal as a node words it (JSON-RPC author errors 1010 invalid … 1016 unactionable) or
 * as chopsticks does: no code, the TransactionValidityError as JSON (`undefined: {"invalid":{"custom":3}}`).
 */
const POOL_MESSAGE = /^10[01]\d: |\{"(invalid|unknown)":/;

/** True if a failed RPC call is the pool refusing the transaction (rather than the node being unreachable). */
export function isPoolRejection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "number" && code >= 1000 && code < 1100) return true;
  return POOL_MESSAGE.test(firstLine(error));
}

/**
 * The EdgeError for what the chain said: a dispatch error name ("subtensorModule.RevealTooEarly"),
 * a pool rejection's message ("1010: Invalid Transaction: Custom error: 3"), or the pool's error
 * itself (an RpcError with `code` and `data`). Custom codes are read in the dialect of
 * `specVersion` (spec 425's when not given).
 */
export function chainRefusal(said: unknown, specVersion?: number): EdgeError {
  const line = firstLine(said);
  const pool = POOL_MESSAGE.test(line) || isPoolRejection(said);
  return pool ? poolRefusal(line, customCodeOf(said, line), specVersion) : dispatchRefusal(line);
}

function dispatchRefusal(name: string): EdgeError {
  const dot = name.lastIndexOf(".");
  const pallet = dot < 0 ? "subtensorModule" : name.slice(0, dot);
  const code = pallet.toLowerCase() === "subtensormodule" ? DISPATCH_ERRORS[name.slice(dot + 1)] : undefined;
  return refusal(code ?? "WEIGHTS_REJECTED", name, { error: name, source: "block" });
}

/** The custom code N of a pool refusal: from an RpcError's `data` ("Custom error: N"), else from its message in either wording. */
function customCodeOf(said: unknown, line: string): number | undefined {
  const data = (said as { data?: unknown } | null)?.data;
  return (typeof data === "string" ? customIn(data) : undefined) ?? customIn(line);
}

function customIn(text: string): number | undefined {
  const match = /Custom error: (\d+)/i.exec(text) ?? /"custom":\s*(\d+)/.exec(text);
  return match ? Number(match[1]) : undefined;
}

function poolRefusal(line: string, customCode: number | undefined, specVersion: number | undefined): EdgeError {
  const message = line.replace(/^undefined: /, ""); // chopsticks sends no code
  if (customCode === undefined) return refusal("WEIGHTS_REJECTED", message, { error: message, source: "pool" });
  const legacy = specVersion !== undefined && specVersion <= LAST_LEGACY_POOL_SPEC;
  const known = (legacy ? LEGACY_POOL_CODES : POOL_CODES_425)[customCode];
  const details = { error: known?.[1] ?? message, source: "pool", customCode, specVersion, message };
  return refusal(known?.[0] ?? "WEIGHTS_REJECTED", `${message} (${known?.[1] ?? "unknown custom code"})`, details);
}

function refusal(code: ErrorCode, said: string, details: Record<string, unknown>): EdgeError {
  return new EdgeError(code, `the chain refused the weights transaction: ${said}`, details);
}

/** The first line of an error's message: HttpProvider appends the whole request (the signed extrinsic) after it. */
function firstLine(error: unknown): string {
  const text = typeof error === "string" ? error : String((error as { message?: unknown } | null)?.message ?? error);
  return text.split("\n", 1)[0] ?? "";
}
