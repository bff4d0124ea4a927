/**
 * An EdgeReplica's refusals as data (an exception's code would not survive the RPC boundary), signed
 * with the replica's key and naming what was refused and the request's nonce: a client can hold a
 * replica to a refusal as to any reply. Unsigned only when the replica has no key (e.g.
 * `not_configured`).
 */
import { AspecError, isAspecError, type ErrorBody } from "../shared/errors.js";
import { isNonce, nonceMember, signErrorReply, type ErrorReply } from "../shared/replies.js";
import type { RpcResult } from "../shared/rpc/replica.js";
import type { ReplicaParts } from "./replica-parts.js";

/** What a refusal names: the op or key the request was about. */
export interface RefusalSubject {
  opId?: string;
  key?: string;
}

/**
 * Run an RPC; a refusal (`AspecError`) becomes a signed refusal naming `about`'s subject and its
 * nonce. A nonce that is not one (the edge checks it; this is the replica's own check of what a peer
 * sent) is refused before anything runs, and never signed back. Any other exception propagates.
 */
export async function guard<T>(
  p: ReplicaParts,
  about: RefusalSubject & { nonce?: string | undefined },
  fn: () => Promise<T>,
): Promise<RpcResult<T>> {
  const { nonce, ...subject } = about;
  const bad = nonce !== undefined && !isNonce(nonce);
  try {
    if (bad) throw new AspecError("invalid_nonce", "the request's nonce is not base64url of 16-32 bytes");
    return { ok: true, value: await fn() };
  } catch (e) {
    if (!isAspecError(e)) throw e;
    return refusal(p, e as AspecError, subject, bad ? undefined : nonce);
  }
}

/** A refusal as data, signed naming what was refused (`subject`); unsigned only without a key. */
export async function refusal(
  p: ReplicaParts,
  e: AspecError,
  subject: RefusalSubject,
  nonce: string | undefined,
): Promise<{ ok: false } & (ErrorReply | ErrorBody)> {
  const error = e.toBody().error;
  const name = p.me();
  const key = name === null ? undefined : await p.resolvedKey();
  if (!key || name === null) return { ok: false, error };
  const signed = await signErrorReply(key.secret, {
    error,
    kind: "error",
    replica: name,
    ...subject,
    time: Date.now(),
    ...nonceMember(nonce),
  });
  return { ok: false, ...signed };
}
