/**
 * The one error type of templar-edge and the catalog of its stable codes.
 *
 * Every refusal, verdict and failure anywhere in the system (Worker, queue consumer, runner,
 * miner CLI) is an `EdgeError` carrying one of these codes. The catalog is the single place
 * that maps a code to an HTTP status; docs/SPEC.md lists every code (a test keeps them equal).
 */

/** Where a code can arise, which is also how docs/SPEC.md groups them. */
export type ErrorStage =
  | "request" // any HTTP request: routing, authentication, malformed input
  | "upload" // refused synchronously while a miner uploads
  | "verdict" // recorded later on an accepted upload by the validation consumer or copy detection
  | "encoder" // raised by the codec's encoding functions on the miner's side: a bug in the caller
  | "evaluation" // a runner's outcome for one submission's evaluation
  | "chain" // the chain refused one of the validator's own transactions (weights)
  | "server"; // the validator's own fault or configuration: never the client's

interface ErrorCodeInfo {
  readonly status: number;
  readonly stage: ErrorStage;
  readonly summary: string;
}

export const ERROR_CODES = {
  // request
  BAD_REQUEST: {
    status: 400,
    stage: "request",
    summary: "The request is malformed: a path, query or body field is invalid.",
  },
  UNAUTHORIZED: { status: 401, stage: "request", summary: "A runner or admin token is missing or wrong." },
  NOT_FOUND: { status: 404, stage: "request", summary: "No such route or resource." },
  RATE_LIMITED: {
    status: 429,
    stage: "request",
    summary:
      "Too many requests from this client address in the limiter's period (uploads and reads are counted apart); retry after the Retry-After header's seconds.",
  },
  // request: admin routes (docs/DEPLOY.md, "Admin")
  // 403, not 5xx: anyone can ask, and no retry will succeed until the operator sets the secret.
  ADMIN_DISABLED: {
    status: 403,
    stage: "request",
    summary: "Admin routes are off: the deployment has no ADMIN_TOKEN secret.",
  },
  RERUN_REFUSED: {
    status: 409,
    stage: "request",
    summary:
      "The window's evaluation cannot be re-run: it was not dispatched yet, or it is scored (its scores carry into later windows and weights).",
  },

  // upload: identity and signature
  SIGNATURE_MISSING: {
    status: 401,
    stage: "upload",
    summary: "A required upload header (hotkey, signature, sha256, size) is absent.",
  },
  SIGNATURE_INVALID: {
    status: 401,
    stage: "upload",
    summary: "The sr25519 signature does not verify for the hotkey over the signed message.",
  },
  HOTKEY_UNREGISTERED: {
    status: 403,
    stage: "upload",
    summary: "The hotkey is not registered on the validator's netuid.",
  },
  UID_MISMATCH: {
    status: 403,
    stage: "upload",
    summary: "The uid in the path is not the uid the hotkey holds on the metagraph.",
  },
  SIGNATURE_REPLAYED: { status: 409, stage: "upload", summary: "This exact signature was already used." },
  // upload: the window clock
  UPLOAD_TOO_EARLY: { status: 425, stage: "upload", summary: "Received before the put window of the window opened." },
  UPLOAD_TOO_LATE: { status: 409, stage: "upload", summary: "Received after the put window of the window closed." },
  // upload: the object
  SUBMISSION_EXISTS: {
    status: 409,
    stage: "upload",
    summary: "This uid already has a submission for this window; the first one stands.",
  },
  SIZE_LIMIT_EXCEEDED: {
    status: 413,
    stage: "upload",
    summary: "The declared or received size is above the limit for gradients.",
  },
  MULTIPART_REQUIRED: {
    status: 413,
    stage: "upload",
    summary: "The file is above the single-request limit; use a multipart upload.",
  },
  SIZE_MISMATCH: { status: 400, stage: "upload", summary: "The bytes received do not add up to the signed size." },
  SHA256_MISMATCH: {
    status: 422,
    stage: "upload",
    summary: "The sha256 of the stored bytes differs from the signed sha256.",
  },
  MULTIPART_UNKNOWN: {
    status: 404,
    stage: "upload",
    summary: "No open multipart upload with this id for this window and uid.",
  },
  MULTIPART_PART_INVALID: {
    status: 400,
    stage: "upload",
    summary: "A part number or part size breaks the multipart rules.",
  },
  MULTIPART_INCOMPLETE: {
    status: 400,
    stage: "upload",
    summary: "Completion names missing, unknown or out-of-order parts.",
  },
  INTAKE_PAUSED: { status: 503, stage: "upload", summary: "The operator has paused intake; retry later." },

  // verdict: the gradient file (docs/SPEC.md, "The gradient file")
  HEADER_LENGTH_INVALID: {
    status: 422,
    stage: "verdict",
    summary:
      "The file is shorter than its 8-byte header length, or that length is below 2, above the header limit, or past the end of the file.",
  },
  HEADER_JSON_INVALID: { status: 422, stage: "verdict", summary: "The header is not UTF-8 JSON describing an object." },
  HEADER_ENTRY_INVALID: {
    status: 422,
    stage: "verdict",
    summary: "A tensor entry lacks a well-formed dtype, shape or data_offsets.",
  },
  METADATA_INVALID: {
    status: 422,
    stage: "verdict",
    summary: "__metadata__ is missing, holds a non-string value, or a required key is absent or malformed.",
  },
  FORMAT_VERSION_UNSUPPORTED: {
    status: 422,
    stage: "verdict",
    summary:
      "The format or format_version in __metadata__ is not one this validator accepts (hparams intake.format_versions).",
  },
  COMPRESSION_MISMATCH: {
    status: 422,
    stage: "verdict",
    summary:
      "A compression setting in __metadata__ (chunk, top-k, bins, range, dct) differs from the validator's hparams.",
  },
  METADATA_MISMATCH: {
    status: 422,
    stage: "verdict",
    summary: "netuid, window, uid or hotkey in __metadata__ differ from the signed upload.",
  },
  PARAM_SAMPLE_INVALID: {
    status: 422,
    stage: "verdict",
    summary: "The param_sample used for the sync check is not valid JSON of the required parameters and finite values.",
  },
  TENSOR_MISSING: { status: 422, stage: "verdict", summary: "A tensor the model manifest requires is absent." },
  TENSOR_UNEXPECTED: {
    status: 422,
    stage: "verdict",
    summary: "A tensor names an unknown parameter or an unknown part.",
  },
  DTYPE_INVALID: {
    status: 422,
    stage: "verdict",
    summary: "A tensor has the wrong dtype (indices and codes are U8, lookup and shift are F32).",
  },
  SHAPE_MISMATCH: { status: 422, stage: "verdict", summary: "A tensor has the wrong rank for its parameter." },
  LEADING_DIMS_MISMATCH: {
    status: 422,
    stage: "verdict",
    summary: "The chunk-grid dimensions of indices or codes differ from the manifest's chunking.",
  },
  TOPK_MISMATCH: {
    status: 422,
    stage: "verdict",
    summary: "The last dimension of indices or codes does not hold exactly k per chunk.",
  },
  LOOKUP_LENGTH_INVALID: {
    status: 422,
    stage: "verdict",
    summary: "The lookup does not hold exactly one value per quantization bin.",
  },
  LAYOUT_INVALID: {
    status: 422,
    stage: "verdict",
    summary: "data_offsets leave holes, overlap, or disagree with dtype and shape.",
  },
  INDEX_OUT_OF_RANGE: { status: 422, stage: "verdict", summary: "An index is not below the chunk size." },
  INDEX_DUPLICATE: { status: 422, stage: "verdict", summary: "An index appears twice within one chunk." },
  INDEX_ORDER_INVALID: {
    status: 422,
    stage: "verdict",
    summary: "Format version 2: a chunk's indices do not ascend.",
  },
  INDEX_CODING_INVALID: {
    status: 422,
    stage: "verdict",
    summary:
      "Format version 2: a chunk's Elias-Fano upper part does not code exactly k indices, or padding bits are not zero.",
  },
  CODE_OUT_OF_RANGE: {
    status: 422,
    stage: "verdict",
    summary: "A quantization code is not below the bin count, or padding bits are not zero.",
  },
  NON_FINITE: {
    status: 422,
    stage: "verdict",
    summary: "A lookup value or shift is NaN or infinite, or their sum overflows float32.",
  },
  TRUNCATED: { status: 422, stage: "verdict", summary: "The file ends before the bytes its header describes." },
  TRAILING_BYTES: { status: 422, stage: "verdict", summary: "The file has bytes past the last tensor." },
  // verdict: copy detection
  COPY_EXACT: {
    status: 409,
    stage: "verdict",
    summary: "The tensor data equals an earlier receipt's (this window or an earlier one).",
  },
  COPY_NEAR: {
    status: 409,
    stage: "verdict",
    summary: "Top-k index overlap with an earlier receipt is at or above the copy threshold.",
  },

  // encoder
  ENCODE_INPUT_INVALID: {
    status: 400,
    stage: "encoder",
    summary: "The values given to the encoder do not match the model manifest (count or order of parameters).",
  },
  PACK12_ODD_COUNT: { status: 400, stage: "encoder", summary: "12-bit packing needs an even number of indices." },
  PACK12_INDEX_OVERFLOW: { status: 400, stage: "encoder", summary: "An index does not fit in 12 bits (>= 4096)." },
  PACK12_LENGTH_INVALID: { status: 400, stage: "encoder", summary: "Packed indices are not 3 bytes per 2 indices." },

  // runners
  LEASE_NOT_HELD: {
    status: 409,
    stage: "request",
    summary: "The lease expired, was returned, or is not this runner's: its batch may be with another runner.",
  },
  LEASE_EXPIRED: {
    status: 409,
    stage: "request",
    summary:
      "A batch's lease ran out before its results arrived: recorded on the batch, which goes back to pending (or is parked).",
  },
  WINDOW_STATE_CONFLICT: {
    status: 409,
    stage: "request",
    summary:
      "A window transition was refused: the window is not in a state it starts from, its condition does not hold yet, or another writer changed the window first. Nothing was written.",
  },
  EVAL_NON_FINITE: {
    status: 422,
    stage: "evaluation",
    summary: "A loss after applying the gradient is NaN or infinite.",
  },

  // chain: the validator's weights transactions. Never a client's fault; 502 where one is shown.
  WEIGHTS_RATE_LIMITED: {
    status: 502,
    stage: "chain",
    summary:
      "The subnet's weights rate limit has not passed since this hotkey's last set or commit (SettingWeightsTooFast, CommittingWeightsTooFast).",
  },
  WEIGHTS_VERSION_KEY_LOW: {
    status: 502,
    stage: "chain",
    summary: "The configured version_key is below the subnet's WeightsVersionKey (IncorrectWeightVersionKey).",
  },
  VALIDATOR_NOT_REGISTERED: {
    status: 502,
    stage: "chain",
    summary: "The validator hotkey is not registered on the netuid (HotKeyNotRegisteredInSubNet).",
  },
  VALIDATOR_STAKE_LOW: {
    status: 502,
    stage: "chain",
    summary: "The validator hotkey has less stake than the chain requires to set weights (NotEnoughStakeToSetWeights).",
  },
  COMMIT_REVEAL_ENABLED: {
    status: 502,
    stage: "chain",
    summary: "The subnet has commit-reveal on: weights must be committed, then revealed (CommitRevealEnabled).",
  },
  REVEAL_TOO_EARLY: {
    status: 502,
    stage: "chain",
    summary: "A weights commit cannot be revealed yet: its reveal epoch has not begun (RevealTooEarly).",
  },
  REVEAL_EXPIRED: {
    status: 502,
    stage: "chain",
    summary: "A weights commit was not revealed within its reveal period and must be committed again.",
  },
  REVEAL_NOT_IN_RANGE: {
    status: 502,
    stage: "chain",
    summary:
      "The pool refused a hash reveal outside its reveal epoch, too early or expired: it does not say which (CommitBlockNotInRevealRange).",
  },
  COMMIT_NOT_FOUND: {
    status: 502,
    stage: "chain",
    summary:
      "No stored commit matches the reveal: it expired and was removed, or its hash differs (NoWeightsCommitFound, InvalidRevealCommitHashNotMatch).",
  },
  COMMIT_REVEAL_DISABLED: {
    status: 502,
    stage: "chain",
    summary: "The subnet has commit-reveal off: weights go by set_weights, not by a commit (CommitRevealDisabled).",
  },
  COMMIT_REVEAL_VERSION_MISMATCH: {
    status: 502,
    stage: "chain",
    summary:
      "The timelocked commit's commit_reveal_version differs from the chain's CommitRevealWeightsVersion (IncorrectCommitRevealVersion).",
  },
  REVEAL_ROUND_INVALID: {
    status: 502,
    stage: "chain",
    summary:
      "The timelocked commit's drand round is below Drand.LastStoredRound: its pulse is already public (InvalidRevealRound).",
  },
  TOO_MANY_UNREVEALED_COMMITS: {
    status: 502,
    stage: "chain",
    summary: "The hotkey already holds 10 unrevealed commits in this epoch (TooManyUnrevealedCommits).",
  },
  MECHANISM_NOT_FOUND: {
    status: 502,
    stage: "chain",
    summary:
      "The subnet does not exist, or the mechanism id is not below its MechanismCountCurrent (MechanismDoesNotExist).",
  },
  VALIDATOR_NO_PERMIT: {
    status: 502,
    stage: "chain",
    summary: "The validator hotkey has no validator permit, so it may not weight other uids (NeuronNoValidatorPermit).",
  },
  WEIGHTS_INVALID: {
    status: 502,
    stage: "chain",
    summary:
      "The weight vector breaks one of the subnet's rules (lengths, duplicates, unknown uids, too few weights, max weight); details.error names it.",
  },
  COLDKEY_SWAP_PENDING: {
    status: 502,
    stage: "chain",
    summary:
      "The validator's coldkey has an announced or disputed coldkey swap; the chain refuses its transactions until it is resolved (ColdkeyInSwapSchedule, ColdkeySwapDisputed).",
  },
  WEIGHTS_REJECTED: {
    status: 502,
    stage: "chain",
    summary: "The chain refused a weights transaction for another reason; details.error names it.",
  },
  TX_DROPPED: {
    status: 502,
    stage: "chain",
    summary: "A submitted transaction was not included before its mortal era ended.",
  },
  WEIGHTS_COMMIT_TOO_LARGE: {
    status: 502,
    stage: "chain",
    summary:
      "A timelocked weights commit would exceed the chain's 5000-byte limit (at most 1177 uids fit); nothing was sent.",
  },
  WEIGHTS_REVEAL_DROPPED: {
    status: 502,
    stage: "chain",
    summary:
      "The chain dropped a timelocked weights commit unrevealed: its bucket is gone and no reveal event names the hotkey (no pulse in its reveal epoch, or a silent reveal failure).",
  },

  // server
  CHECKPOINT_INVALID: { status: 500, stage: "server", summary: "A stored checkpoint does not fit the model manifest." },
  MANIFEST_INVALID: {
    status: 500,
    stage: "server",
    summary: "The model manifest has a parameter the codec cannot chunk.",
  },
  CONFIG_INVALID: {
    status: 500,
    stage: "server",
    summary: "A deployment setting or hparams profile is unknown or malformed.",
  },
  MODEL_FILE_INVALID: {
    status: 500,
    stage: "server",
    summary:
      "A model weights file read from disk (a safetensors file, shard or shard index) is malformed, truncated, missing or holds a dtype the reader refuses; details.reason says which.",
  },
  DATA_FILE_INVALID: {
    status: 500,
    stage: "server",
    summary:
      "A data file read from disk (a .npy token shard or sample-id file) has a bad header, a dtype or shape the reader refuses, or truncated data; details.reason says which.",
  },
  CHAIN_UNAVAILABLE: { status: 503, stage: "server", summary: "The chain could not be reached; retry later." },
  INTERNAL: { status: 500, stage: "server", summary: "An unexpected fault in the validator." },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The error every templar-edge module throws: a stable code, a short public message, optional
 * details. `cause` holds what an upstream said (a chain node, R2): it goes to the log, never to
 * a client.
 */
export class EdgeError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EdgeError";
    this.code = code;
    this.details = details;
  }

  /** The HTTP status this code maps to. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** True if `code` is one of the catalog's codes. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
