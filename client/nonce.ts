/**
 * The request nonce (`x-aspec-nonce`): 16 fresh random bytes per request, which the replica signs
 * back in its reply. A reply that does not carry the nonce its request was sent with is not that
 * request's answer (a replay), whoever signed it: `reply_replayed` (client/verify.ts).
 */
import { toB64u } from "../shared/bytes.js";
import { NONCE_HEADER } from "../shared/replies.js";

export { NONCE_HEADER };

/** What ties a reply to the request it answers: the nonce sent, and the guard's receive mark then. */
export interface RequestBinding {
  nonce: string;
  /** `CertificateGuard.mark()` when the request was sent: replies received before it came first. */
  sent: number;
}

export function freshNonce(): string {
  return toB64u(crypto.getRandomValues(new Uint8Array(16)));
}
