/**
 * Per-key state transitions shared by the edge replicas (tentative and certified state) and the
 * PBFT state machine: decide an op against a key's record, apply an effect to it.
 *
 * A key's type is fixed by its first op. An op of another type is *rejected* here (a status, not an
 * exception) so that the certified order can decide it deterministically; the origin replica turns
 * that rejection into a 409 before accepting anything.
 */
import type { Json } from "./canonical.js";
import { dataType, type OpStatus, type TypeName } from "./datatypes/index.js";
import type { OpBody } from "./ops.js";
import { opIdOf } from "./ops.js";

export interface KeyRecord {
  type: TypeName;
  state: unknown;
}

export interface Outcome {
  status: OpStatus;
  reason?: string;
  /** What to apply on every replica; null when nothing changes. */
  effect: unknown;
  /** The key's record after the op (the input record when nothing changed). */
  record: KeyRecord | undefined;
  /** The key's user-visible value after the op. */
  value: Json;
}

export const valueOf = (rec: KeyRecord | undefined): Json =>
  rec ? dataType(rec.type).value(rec.state) : null;

export function decideOp(rec: KeyRecord | undefined, op: OpBody): Outcome {
  if (rec && rec.type !== op.type)
    return { status: "rejected", reason: "type_mismatch", effect: null, record: rec, value: valueOf(rec) };
  const dt = dataType(op.type);
  const state = rec ? rec.state : dt.initial();
  const d = dt.decide(state, op.op, op.args, { opId: opIdOf(op), client: op.client, seq: op.seq, ts: op.ts });
  if (d.effect === null) {
    const out: Outcome = { status: d.status, effect: null, record: rec, value: dt.value(state) };
    if (d.reason) out.reason = d.reason;
    return out;
  }
  const next: KeyRecord = { type: op.type, state: dt.apply(state, d.effect) };
  const out: Outcome = { status: d.status, effect: d.effect, record: next, value: dt.value(next.state) };
  if (d.reason) out.reason = d.reason;
  return out;
}

/**
 * Apply an effect decided elsewhere. Returns null when the key already holds another type
 * (a concurrent first write of a different type: the certified order settles it).
 */
export function applyEffect(rec: KeyRecord | undefined, type: TypeName, effect: unknown): KeyRecord | null {
  if (rec && rec.type !== type) return null;
  const dt = dataType(type);
  return { type, state: dt.apply(rec ? rec.state : dt.initial(), effect) };
}
