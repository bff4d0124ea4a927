/**
 * What the edge answers for an exception that is not an `AspecError`: `503 unavailable` when the
 * platform says a retry may succeed (a Durable Object that is overloaded, being reset or moved,
 * or a lost connection to it: the exception carries `retryable` or `overloaded`), otherwise
 * `500 internal`. Both are retried by the SDK; an op is re-sent with the same bytes and id, so a
 * retry never applies it twice.
 */
import { AspecError } from "../shared/errors.js";

interface PlatformErrorFlags {
  retryable?: unknown;
  overloaded?: unknown;
}

export function unexpectedError(err: unknown): AspecError {
  const flags = (typeof err === "object" && err !== null ? err : {}) as PlatformErrorFlags;
  const transient = flags.retryable === true || flags.overloaded === true;
  console.log({
    event: transient ? "transient_error" : "internal_error",
    message: String(err),
    stack: err instanceof Error ? err.stack : undefined,
    retryable: flags.retryable === true,
    overloaded: flags.overloaded === true,
  });
  return transient
    ? new AspecError("unavailable", "temporarily unavailable: retry with backoff")
    : new AspecError("internal", "internal error");
}
