/**
 * Errors raised by the SDK itself, as opposed to `AspecError`, which is what a server said
 * (rebuilt from the `{ error: { code, message } }` body). Keeping them apart lets a caller tell
 * "the server refused" from "the server could not be reached" or "the server's reply is a lie".
 */

export type ClientErrorCode =
  "reply_unverified" | "network" | "bad_response" | "unknown_replica" | "invalid_key";

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
 * A reply that fails verification: bad or foreign signature, a replica we did not ask, or an op id /
 * key that is not the one we sent. The reply is kept: a signed reply that contradicts itself is
 * evidence against the replica that signed it.
 */
export class ReplyVerificationError extends AspecClientError {
  constructor(
    message: string,
    readonly reply: unknown,
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
