/**
 * Build, check and sign one operation. The op is checked with the same `parseOp` the edge Worker
 * runs, before a seq is spent on it, so a bad argument fails fast with the code the server would give.
 */
import type { Json } from "../shared/canonical.js";
import type { KeyPair } from "../shared/crypto/keys.js";
import type { TypeName } from "../shared/datatypes/index.js";
import { parseOp, signOp, type OpBody, type SignedOp } from "../shared/ops.js";

export interface OpIntent {
  key: string;
  type: TypeName;
  op: string;
  args: { [k: string]: Json };
}

// A syntactically valid stand-in signature: parseOp checks its shape, not its validity.
const PLACEHOLDER_SIG = "A".repeat(86);

/** Throws `AspecError` (invalid_args, unknown_op, payload_too_large, …) for an op the server would refuse. */
export function checkIntent(intent: OpIntent, client: string, ts: number): void {
  parseOp({ client, seq: 1, ts, ...intent, sig: PLACEHOLDER_SIG });
}

export function signIntent(key: KeyPair, intent: OpIntent, seq: number, ts: number): Promise<SignedOp> {
  const body: OpBody = {
    client: key.publicKey,
    seq,
    key: intent.key,
    type: intent.type,
    op: intent.op,
    args: intent.args,
    ts,
  };
  return signOp(key.secret, body);
}
