/**
 * The hostile traffic of `npm run bench:hostile` and test/node/hostile.test.ts: classes of
 * requests an attacker on the open internet can send, each with the refusals it may get. A
 * class builds its i-th request from the arena (what an attacker can know: the public window,
 * the honest miners' uids and hotkeys, requests it overheard) and its own keys.
 */
import { createHash, randomBytes } from "node:crypto";
import type { ErrorCode } from "../../schema/errors.ts";
import type { HotkeySigner } from "../../schema/keys/hotkey-signer.ts";
import { signedMessage } from "../../schema/upload/upload-claim.ts";

/** A registered miner as the public sees it. */
export interface PublicMiner {
  readonly uid: number;
  readonly hotkey: string;
}

/** An honest upload's request, as an eavesdropper (or a proxy) saw it. */
export interface OverheardUpload {
  readonly window: number;
  readonly uid: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** What the attacker knows and holds. */
export interface Arena {
  readonly url: string;
  readonly netuid: number;
  /** The window whose put window is open while the traffic runs. */
  readonly window: number;
  /** When that put window closes (the validator's clock, Unix ms). */
  readonly putClosesAtMs: number;
  readonly victims: readonly PublicMiner[];
  /** A registered hotkey of the attacker's own, with its uid. */
  readonly attacker: PublicMiner & { readonly signer: HotkeySigner };
  /** Keys registered nowhere. */
  readonly strangers: readonly HotkeySigner[];
  /** A small body to send (any bytes: most classes are refused before the body matters). */
  readonly body: Uint8Array;
  /** Honest uploads seen so far (the replay class needs at least one). */
  readonly overheard: readonly OverheardUpload[];
  /** The largest file the validator accepts (limits.max_gradient_bytes). */
  readonly maxGradientBytes: number;
}

export interface HostileRequest {
  readonly path: string;
  readonly init: RequestInit & { readonly method: string };
}

export interface AttackClass {
  readonly name: string;
  /** The catalog codes its refusals may carry; anything else fails the suite. */
  readonly refusals: readonly ErrorCode[];
  /** Whether a 2xx answer is expected for some of its requests (the attacker's own uid, plain reads). */
  readonly mayPass?: boolean;
  /** Sent from one client address, to spend its rate limit; other classes come from many. */
  readonly oneClient?: boolean;
  request(arena: Arena, i: number): HostileRequest;
}

const pick = <T>(items: readonly T[], i: number): T => items[i % items.length] as T;
const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const hex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString("hex")}`;

/** Upload headers signed by `signer` for (window, uid) over `body`. */
function signed(arena: Arena, signer: HotkeySigner, window: number, uid: number, body: Uint8Array) {
  const sha256 = sha256Hex(body);
  const message = signedMessage({ netuid: arena.netuid, window, uid, sha256, size: body.length });
  return {
    "X-Templar-Hotkey": signer.address,
    "X-Templar-Sha256": sha256,
    "X-Templar-Signature": hex(signer.sign(message)),
  };
}

const put = (path: string, body: Uint8Array, headers: Record<string, string> = {}): HostileRequest => ({
  path,
  init: { method: "PUT", body, headers },
});
const get = (path: string, method = "GET"): HostileRequest => ({ path, init: { method } });

/** The classes sent in turn, in the order reports list them. */
export const ATTACK_CLASSES: readonly AttackClass[] = [
  {
    name: "unsigned upload under a victim's uid",
    refusals: ["SIGNATURE_MISSING"],
    request: (a, i) => put(`/v1/gradients/${a.window}/${pick(a.victims, i).uid}`, a.body),
  },
  {
    name: "upload signed by an unregistered key",
    refusals: ["HOTKEY_UNREGISTERED"],
    request: (a, i) => {
      const uid = pick(a.victims, i).uid;
      return put(`/v1/gradients/${a.window}/${uid}`, a.body, signed(a, pick(a.strangers, i), a.window, uid, a.body));
    },
  },
  {
    name: "upload signed by a registered key under another uid",
    refusals: ["UID_MISMATCH"],
    request: (a, i) => {
      const uid = pick(a.victims, i).uid;
      return put(`/v1/gradients/${a.window}/${uid}`, a.body, signed(a, a.attacker.signer, a.window, uid, a.body));
    },
  },
  {
    name: "upload in a victim's hotkey with a forged signature",
    refusals: ["SIGNATURE_INVALID"],
    request: (a, i) => {
      const victim = pick(a.victims, i);
      return put(`/v1/gradients/${a.window}/${victim.uid}`, a.body, {
        "X-Templar-Hotkey": victim.hotkey,
        "X-Templar-Sha256": sha256Hex(a.body),
        "X-Templar-Signature": hex(randomBytes(64)),
      });
    },
  },
  {
    name: "replay of an overheard honest upload",
    refusals: ["SIGNATURE_REPLAYED", "SUBMISSION_EXISTS"],
    request: (a, i) => {
      const seen = pick(a.overheard, i);
      return put(`/v1/gradients/${seen.window}/${seen.uid}`, seen.body, { ...seen.headers });
    },
  },
  {
    name: "signed upload for a window far in the future",
    refusals: ["UPLOAD_TOO_EARLY"],
    request: (a, i) => {
      const window = 300_000_000 + i;
      return put(
        `/v1/gradients/${window}/${a.attacker.uid}`,
        a.body,
        signed(a, a.attacker.signer, window, a.attacker.uid, a.body),
      );
    },
  },
  {
    name: "signed upload for a closed window",
    refusals: ["UPLOAD_TOO_LATE"],
    request: (a, i) => {
      const window = Math.max(0, a.window - 2 - (i % 3));
      return put(
        `/v1/gradients/${window}/${a.attacker.uid}`,
        a.body,
        signed(a, a.attacker.signer, window, a.attacker.uid, a.body),
      );
    },
  },
  {
    name: "signed upload repeated under the attacker's own uid",
    mayPass: true,
    refusals: ["SUBMISSION_EXISTS", "SIGNATURE_REPLAYED"],
    request: (a) =>
      put(
        `/v1/gradients/${a.window}/${a.attacker.uid}`,
        a.body,
        signed(a, a.attacker.signer, a.window, a.attacker.uid, a.body),
      ),
  },
  {
    name: "multipart upload declaring a size past the limit",
    refusals: ["SIZE_LIMIT_EXCEEDED", "SUBMISSION_EXISTS"],
    request: (a) => {
      const size = a.maxGradientBytes + 1;
      const sha256 = sha256Hex(a.body);
      const message = signedMessage({ netuid: a.netuid, window: a.window, uid: a.attacker.uid, sha256, size });
      return {
        path: `/v1/gradients/${a.window}/${a.attacker.uid}/multipart`,
        init: {
          method: "POST",
          headers: {
            "X-Templar-Hotkey": a.attacker.signer.address,
            "X-Templar-Sha256": sha256,
            "X-Templar-Signature": hex(a.attacker.signer.sign(message)),
            "X-Templar-Size": String(size),
          },
        },
      };
    },
  },
  {
    name: "multipart part for a session that does not exist",
    refusals: ["MULTIPART_UNKNOWN", "SIGNATURE_MISSING"],
    request: (a, i) =>
      put(
        `/v1/gradients/${a.window}/${pick(a.victims, i).uid}/multipart/${randomBytes(12).toString("hex")}/parts/1`,
        a.body,
        {
          "X-Templar-Hotkey": pick(a.victims, i).hotkey,
          "X-Templar-Signature": hex(randomBytes(64)),
        },
      ),
  },
  {
    name: "malformed upload headers",
    refusals: ["SIGNATURE_INVALID", "SIGNATURE_MISSING", "BAD_REQUEST"],
    request: (a, i) =>
      put(`/v1/gradients/${a.window}/${pick(a.victims, i).uid}`, a.body, {
        "X-Templar-Hotkey": ["not-an-address", "5".repeat(400), "", "0x00"][i % 4] as string,
        "X-Templar-Sha256": ["zz", "0".repeat(64), "A".repeat(64)][i % 3] as string,
        "X-Templar-Signature": ["0x", "0x".concat("g".repeat(128)), hex(randomBytes(64))][i % 3] as string,
      }),
  },
  {
    name: "path numbers past 2^53",
    refusals: ["BAD_REQUEST"],
    request: (_a, i) =>
      get(
        pick(
          [
            "/v1/submissions/99999999999999999999/1",
            "/v1/windows/9007199254740993",
            "/v1/miners/123456789012345678901234567890/scores",
          ],
          i,
        ),
      ),
  },
  {
    name: "data file name of 3,000 characters (GET and HEAD)",
    refusals: ["NOT_FOUND"],
    request: (_a, i) => get(`/v1/data/${"x".repeat(3000)}`, i % 2 ? "HEAD" : "GET"),
  },
  {
    name: "history with an oversized limit or a forged cursor",
    refusals: ["BAD_REQUEST"],
    request: (a, i) =>
      get(
        `/v1/miners/${pick(a.victims, i).uid}/submissions?${pick(["limit=1000000", "cursor=9.9.99999999999999999", "cursor=x%27%3B--", `cursor=${"1".repeat(5000)}`], i)}`,
      ),
  },
  {
    // private until its put window closes (UNAUTHORIZED), public afterwards
    name: "a victim's gradient, private while its put window is open",
    mayPass: true,
    refusals: ["UNAUTHORIZED", "NOT_FOUND"],
    request: (a, i) => get(`/v1/gradients/${a.window}/${pick(a.victims, i).uid}`),
  },
  {
    name: "runner and admin routes without a token",
    refusals: ["UNAUTHORIZED", "ADMIN_DISABLED"],
    request: (_a, i) =>
      pick<HostileRequest>(
        [
          { path: "/v1/runner/leases", init: { method: "POST" } },
          { path: "/v1/runner/leases/1/results", init: { method: "POST", body: "{}" } },
          { path: "/v1/admin/intake/pause", init: { method: "POST", headers: { Authorization: "Bearer guess" } } },
          get("/v1/admin/actions"),
        ],
        i,
      ),
  },
  {
    name: "unknown routes and methods",
    refusals: ["NOT_FOUND"],
    request: (_a, i) =>
      pick<HostileRequest>(
        [
          get(`/v1/${randomBytes(8).toString("hex")}`),
          { path: "/v1/hparams", init: { method: "DELETE" } },
          get("/../../etc/passwd"),
          { path: "/v1/windows/current", init: { method: "PATCH" } },
        ],
        i,
      ),
  },
];

/**
 * Unsigned uploads from one client address, as fast as a lane of its own can send them, past
 * the upload limit; sent beside the classes above for as long as they run.
 */
export const FLOOD_CLASS: AttackClass = {
  name: "uploads from one client past its rate limit",
  oneClient: true,
  refusals: ["RATE_LIMITED", "SIGNATURE_MISSING"],
  request: (a, i) => put(`/v1/gradients/${a.window}/${pick(a.victims, i).uid}`, a.body),
};
