/**
 * A client equivocates when it signs two different ops under one op id (`client:seq`) and sends them
 * to different replicas. Both signatures verify, so neither replica can refuse its version on sight;
 * until the certified order settles which one stands, replicas converge on one by a rule every
 * replica computes alike: the version whose canonical signed bytes hash lower wins. Pure.
 */
import { canonicalBytes, canonicalJson, DOMAIN } from "./canonical.js";
import { toHex } from "./bytes.js";
import { sha256 } from "./hash.js";
import { opBody, type SignedOp } from "./ops.js";

/** SHA-256 (hex) of the version's canonical bytes, signature included. */
export const versionHash = (op: SignedOp): string => toHex(sha256(canonicalBytes(DOMAIN.op, op)));

/** Do two ops under one op id say the same thing (signatures aside)? */
export const sameContent = (a: SignedOp, b: SignedOp): boolean =>
  canonicalJson(opBody(a)) === canonicalJson(opBody(b));

/** The version every replica keeps of two different ops under one op id. */
export function equivocationWinner(a: SignedOp, b: SignedOp): SignedOp {
  const ha = versionHash(a);
  const hb = versionHash(b);
  return ha < hb || (ha === hb && canonicalJson(a) <= canonicalJson(b)) ? a : b;
}
