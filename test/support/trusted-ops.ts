/**
 * Ops for tests of the certified state machine, which trusts its input (signatures were checked
 * before ordering): well-formed, with a placeholder signature, seqs unique per process.
 */
import type { SignedOp } from "../../shared/ops.js";

export const CLIENTS = ["A".repeat(43), "B".repeat(43), "C".repeat(43)];
const SIG = "S".repeat(86);

let seq = 0;
export function op(
  key: string,
  type: SignedOp["type"],
  name: string,
  args: SignedOp["args"],
  client = 0,
): SignedOp {
  seq++;
  return { client: CLIENTS[client]!, seq, key, type, op: name, args, ts: 1000 + seq, sig: SIG };
}
