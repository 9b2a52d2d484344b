/**
 * The one place that turns what the chain says into an EdgeError: a node that does not answer
 * (CHAIN_UNAVAILABLE), and what it says about a weights transaction.
 *
 * The chain says it in two ways. A transaction that reaches a block but fails carries a
 * dispatch error, "pallet.Error" (e.g. "subtensorModule.SettingWeightsTooFast"), whose names are
 * the same on spec 218 and HEAD. A transaction the pool refuses never gets that far: the JSON-RPC
 * call fails with `1010: Invalid Transaction: Custom error: N` (a node) or a JSON `{"invalid":
 * {"custom":N}}` (chopsticks), and what N means depends on the runtime (docs/LOCAL_CHAIN.md §5).
 */
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";

/**
 * CHAIN_UNAVAILABLE for a chain call that failed (`what`: "the head", "block 40", …). The public
 * message names only what was asked; the node's own text, which can quote a whole signed
 * extrinsic, is the cause, which goes to the log.
 */
export function chainUnavailable(what: string, cause: unknown): EdgeError {
  return new EdgeError("CHAIN_UNAVAILABLE", `could not reach the chain for ${what}`, undefined, { cause });
}

/** SubtensorModule's dispatch errors the validator acts on; any other name is WEIGHTS_REJECTED. */
const DISPATCH_ERRORS: Readonly<Record<string, ErrorCode>> = {
  SettingWeightsTooFast: "WEIGHTS_RATE_LIMITED",
  IncorrectWeightVersionKey: "WEIGHTS_VERSION_KEY_LOW",
  HotKeyNotRegisteredInSubNet: "VALIDATOR_NOT_REGISTERED",
  NotEnoughStakeToSetWeights: "VALIDATOR_STAKE_LOW",
  CommitRevealEnabled: "COMMIT_REVEAL_ENABLED",
  RevealTooEarly: "REVEAL_TOO_EARLY",
  ExpiredWeightCommit: "REVEAL_EXPIRED",
};

type PoolCodes = Readonly<Record<number, readonly [ErrorCode, string]>>;

/**
 * The last spec whose pool speaks the old dialect below. Where the switch to HEAD's numbering
 * happened between 218 and 425 is not known here: a spec in between is read as HEAD.
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
 * HEAD (spec 425, `CustomTransactionError`): these come from subtensor's sources (table in
 * docs/LOCAL_CHAIN.md §5) and cannot be exercised here, since the local runtime is spec 218. 17 is
 * "no commit of this hash is in its reveal range": too early or expired, the pool does not say
 * which; it is read as too early, and the caller's own reveal deadline tells the two apart.
 */
const HEAD_POOL_CODES: PoolCodes = {
  1: ["VALIDATOR_STAKE_LOW", "StakeAmountTooLow"],
  6: ["WEIGHTS_RATE_LIMITED", "RateLimitExceeded"],
  16: ["WEIGHTS_REJECTED", "CommitNotFound"],
  17: ["REVEAL_TOO_EARLY", "CommitBlockNotInRevealRange"],
  19: ["VALIDATOR_NOT_REGISTERED", "UidNotFound"],
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
 * The EdgeError for what the chain said: a dispatch error name ("subtensorModule.RevealTooEarly")
 * or a pool rejection's message ("1010: Invalid Transaction: Custom error: 3"), whose custom
 * codes are read in the dialect of `specVersion` (HEAD's when not given).
 */
export function chainRefusal(nameOrPoolMessage: string, specVersion?: number): EdgeError {
  const said = firstLine(nameOrPoolMessage);
  return POOL_MESSAGE.test(said) ? poolRefusal(said, specVersion) : dispatchRefusal(said);
}

function dispatchRefusal(name: string): EdgeError {
  const dot = name.lastIndexOf(".");
  const pallet = dot < 0 ? "subtensorModule" : name.slice(0, dot);
  const code = pallet.toLowerCase() === "subtensormodule" ? DISPATCH_ERRORS[name.slice(dot + 1)] : undefined;
  return refusal(code ?? "WEIGHTS_REJECTED", name, { error: name, source: "block" });
}

function poolRefusal(said: string, specVersion: number | undefined): EdgeError {
  const message = said.replace(/^undefined: /, ""); // chopsticks sends no code
  const custom = /Custom error: (\d+)/i.exec(message) ?? /"custom":\s*(\d+)/.exec(message);
  if (!custom) return refusal("WEIGHTS_REJECTED", message, { error: message, source: "pool" });
  const customCode = Number(custom[1]);
  const legacy = specVersion !== undefined && specVersion <= LAST_LEGACY_POOL_SPEC;
  const known = (legacy ? LEGACY_POOL_CODES : HEAD_POOL_CODES)[customCode];
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
