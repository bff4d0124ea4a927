/**
 * What replicas exchange through the `replicate` queue: ops with the effect their origin decided.
 * Receivers re-verify each client signature (a faulty origin can't inject ops) and apply the effect
 * once per op id.
 */
import type { OpStatus } from "./datatypes/index.js";
import { canonicalSize } from "./canonical.js";
import type { SignedOp } from "./ops.js";

export interface ReplicatedOp {
  op: SignedOp;
  status: OpStatus;
  reason?: string;
  /** null when the op changed nothing at its origin (e.g. a rejected withdraw). */
  effect: unknown;
}

export interface ReplicateMessage {
  origin: string;
  entries: ReplicatedOp[];
}

/** Queue messages are capped at 128 KB; stay well below it. */
export const REPLICATE_MESSAGE_BYTES_MAX = 96 * 1024;

/** Split entries into messages under the byte cap, keeping order. */
export function packMessages(origin: string, entries: ReplicatedOp[]): ReplicateMessage[] {
  const out: ReplicateMessage[] = [];
  let cur: ReplicatedOp[] = [];
  let size = 0;
  for (const e of entries) {
    const n = canonicalSize(e) + 1;
    if (cur.length > 0 && size + n > REPLICATE_MESSAGE_BYTES_MAX) {
      out.push({ origin, entries: cur });
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += n;
  }
  if (cur.length > 0) out.push({ origin, entries: cur });
  return out;
}
