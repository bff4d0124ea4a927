/**
 * What the edge answers for an exception that is not an `AspecError`: `503 unavailable` when the
 * platform says a retry may succeed (a Durable Object that is overloaded, being reset or moved,
 * or a lost connection to it: the exception carries `retryable` or `overloaded`; or a replica that
 * did not answer within its deadline, `DeadlineError`), otherwise
 * `500 internal`. Both are retried by the SDK; an op is re-sent with the same bytes and id, so a
 * retry never applies it twice.
 */
import { DeadlineError } from "../shared/deadline.js";
import { AspecError } from "../shared/errors.js";

interface PlatformErrorFlags {
  retryable?: unknown;
  overloaded?: unknown;
}

export function unexpectedError(err: unknown): AspecError {
  const flags = (typeof err === "object" && err !== null ? err : {}) as PlatformErrorFlags;
  // a replica past its deadline: another replica, or a retry, may answer
  const transient = flags.retryable === true || flags.overloaded === true || err instanceof DeadlineError;
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
