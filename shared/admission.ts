/**
 * The checks an origin replica makes before it accepts a client's op, as a pure function of what
 * it has stored and its clock. Signature verification comes first and is the shell's (async) job.
 */
import { canonicalJson } from "./canonical.js";
import { AspecError } from "./errors.js";
import type { SignedOp } from "./ops.js";

/** How far a client's clock may be from the replica's (ms). */
export const TS_SKEW_MAX_MS = 5 * 60_000;
/** How far above the highest seq seen from a client a new seq may jump. */
export const SEQ_WINDOW = 1_000_000;

export type Admission = { kind: "new" } | { kind: "duplicate" };

export function admitOp(
  op: SignedOp,
  stored: SignedOp | undefined,
  maxSeqSeen: number,
  nowMs: number,
): Admission {
  if (stored) {
    // The exact op again (a retry, or a failover re-send) is idempotent; anything else reusing
    // the op id is a replay attempt.
    if (canonicalJson(stored) === canonicalJson(op)) return { kind: "duplicate" };
    throw new AspecError("seq_replayed", `seq ${op.seq} was already used by this client`, {
      lastSeq: maxSeqSeen,
    });
  }
  if (Math.abs(op.ts - nowMs) > TS_SKEW_MAX_MS)
    throw new AspecError(
      "ts_out_of_range",
      `ts is more than ${TS_SKEW_MAX_MS / 1000} s from the replica's clock`,
      {
        replicaTime: nowMs,
      },
    );
  if (op.seq > maxSeqSeen + SEQ_WINDOW)
    throw new AspecError("seq_out_of_range", `seq jumps more than ${SEQ_WINDOW} past the last seen`, {
      lastSeq: maxSeqSeen,
    });
  return { kind: "new" };
}
