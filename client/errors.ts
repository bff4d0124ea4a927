/**
 * Errors raised by the SDK itself, as opposed to `AspecError`, which is what a server said
 * (rebuilt from the `{ error: { code, message } }` body). Keeping them apart lets a caller tell
 * "the server refused" from "the server could not be reached" or "the server's reply is a lie".
 */

export type ClientErrorCode =
  | "reply_unverified"
  | "network"
  | "bad_response"
  | "unknown_replica"
  | "invalid_key"
  | "invalid_cluster"
  | "not_certified"
  | "closed";

/** Base class of every error the SDK raises on its own. */
export class AspecClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AspecClientError";
  }
}

/**
 * Why a reply was refused. Stable: evidence and tests key on it.
 * - `malformed`: not a signed reply of the kind asked for.
 * - `unknown_replica`: it names a replica that is not pinned.
 * - `bad_signature`: the replica's signature does not verify under its pinned key.
 * - `wrong_replica`: a genuine reply, from another replica than the one asked.
 * - `wrong_subject`: a genuine reply about another op / key / type than the one sent.
 * - `bad_certificate`: a certificate that is not 2f+1 valid signatures of distinct pinned nodes over one body.
 * - `certificate_regressed`: a replica's newest certificate is older than one it showed this client before.
 * - `certificate_stale`: older than `maxCertificateAgeMs` (default 10 s) by the certificate's own
 *   `time` and the client's clock. Not a lie (the replica may be behind): the client fails over and
 *   tries that replica again later.
 * - `reply_replayed`: the reply does not carry the nonce its request was sent with (an old signed
 *   reply, replayed or backdated), or, for a cached certified read, which carries none, shows an
 *   older certificate than its replica showed before. Proves nothing against the replica (anyone
 *   can replay its old replies): no evidence, and the replica is tried again later.
 * - `bad_read_proof`: a certified value whose proof does not fold to its certificate's `stateRoot`.
 * - `bad_result_proof`: a certified op result whose proof does not fold to its certificate's `resultsRoot`.
 * - `out_of_bounds`: a reply past the SDK's bound (bytes or nesting, shared/reply-limits.ts), or with
 *   a member name twice / `__proto__`: refused unread (`reply` null), never evidence.
 */
export type VerificationReason =
  | "malformed"
  | "unknown_replica"
  | "bad_signature"
  | "wrong_replica"
  | "wrong_subject"
  | "bad_certificate"
  | "certificate_regressed"
  | "certificate_stale"
  | "reply_replayed"
  | "bad_read_proof"
  | "bad_result_proof"
  | "out_of_bounds";

/**
 * A reply that fails verification. The reply is kept exactly as received (parsed JSON): a signed
 * reply that a certificate or proof contradicts is evidence against the replica that signed it.
 */
export class ReplyVerificationError extends AspecClientError {
  constructor(
    /** Stable reason, see `VerificationReason`. */
    readonly reason: VerificationReason,
    /** The replica that signed (or is named by) the reply; "" when the reply names none. */
    readonly replica: string,
    /** The reply as received. */
    readonly reply: unknown,
    message: string,
  ) {
    super("reply_unverified", message);
    this.name = "ReplyVerificationError";
  }
}

/** The endpoint could not be reached (or kept failing with 5xx) after every retry. */
export class NetworkError extends AspecClientError {
  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super("network", message, options);
    this.name = "NetworkError";
  }
}

/** A response that is neither a reply nor the API's error shape (e.g. an HTML 502 page). */
export class BadResponseError extends AspecClientError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super("bad_response", message);
    this.name = "BadResponseError";
  }
}

export const isAspecClientError = (e: unknown): e is AspecClientError => e instanceof AspecClientError;

/**
 * Refusals that prove nothing against the replica (it may be behind, or someone replays its old
 * replies): the client fails over and tries the replica again later, never leaves it for good.
 */
export const UNPROVEN_REASONS: ReadonlySet<VerificationReason> = new Set([
  "certificate_stale",
  "reply_replayed",
]);
