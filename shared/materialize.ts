/**
 * Per-key state transitions shared by the edge replicas (tentative and certified state) and the
 * PBFT state machine: decide an op against a key's record, apply an effect to it.
 *
 * A key's type is fixed by its first op. An op of another type is *rejected* here (a status, not an
 * exception) so that the certified order can decide it deterministically; the origin replica turns
 * that rejection into a 409 before accepting anything. A key a `delete` emptied (its record reads as
 * absent, `isPresent`) takes any type again, like a never-written one.
 */
import { canonicalJson, type Json } from "./canonical.js";
import { dataType, type DecideOrder, type OpStatus, type TypeName } from "./datatypes/index.js";
import type { Hlc } from "./hlc.js";
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
  /** A register write that lost: the key already held a later write (whose value `value` is). */
  superseded?: true;
}

/** How the certified order decides: the same at every node (see `DecideOrder`). */
export const CERTIFIED_ORDER: DecideOrder = { kind: "certified" };

/**
 * Does the key read as present? False for a record a `delete` emptied (a register's tombstone, a
 * deleted counter, set or account that nothing brought back): reads answer it as a never-written
 * key, and the certified order removes it from its state (`executeOps`).
 */
export const isPresent = (rec: KeyRecord): boolean => dataType(rec.type).present?.(rec.state) ?? true;

/** The record if the key reads as present, else undefined (what a read shows of it). */
export const liveRecord = (rec: KeyRecord | undefined): KeyRecord | undefined =>
  rec && isPresent(rec) ? rec : undefined;

/** A key's user-visible value; null for a key absent or deleted. */
export const valueOf = (rec: KeyRecord | undefined): Json => {
  const live = liveRecord(rec);
  return live ? dataType(live.type).value(live.state) : null;
};

/**
 * The value an op's outcome reports (`TentativeResult.value`, `OpResult.value`): its key's value
 * right after it, a key that holds nothing read as the op type's initial value (an account's 0).
 * The one rule for the origin's decision, the certified result and every receiver's row: a receiver
 * that said `valueOf` (null) where the origin said 0 would report another outcome of the same op
 * (an equivocating client's rejected winner, or any rejected op on a fresh key).
 */
export function opValue(rec: KeyRecord | undefined, type: TypeName): Json {
  // A deleted key reads as the initial value, as the certified order (which removed it) reports it.
  if (rec && isPresent(rec)) return valueOf(rec);
  const dt = dataType(type);
  return dt.value(dt.initial());
}

export function decideOp(held: KeyRecord | undefined, op: OpBody, order: DecideOrder): Outcome {
  const rec = takeable(held, op.type);
  if (rec && rec.type !== op.type)
    return {
      status: "rejected",
      reason: "type_mismatch",
      effect: null,
      record: rec,
      value: opValue(rec, op.type),
    };
  const dt = dataType(op.type);
  const state = rec ? rec.state : dt.initial();
  const d = dt.decide(state, op.op, op.args, { opId: opIdOf(op), client: op.client, seq: op.seq, order });
  if (d.effect === null) {
    const out: Outcome = { status: d.status, effect: null, record: held, value: opValue(rec, op.type) };
    if (d.reason) out.reason = d.reason;
    return out;
  }
  const next: KeyRecord = { type: op.type, state: dt.apply(state, d.effect) };
  const out: Outcome = { status: d.status, effect: d.effect, record: next, value: opValue(next, op.type) };
  if (d.reason) out.reason = d.reason;
  if (dt.loses?.(state, d.effect)) out.superseded = true;
  return out;
}

/** The record an op of `type` builds on: none if the key holds a deleted record of another type. */
const takeable = (rec: KeyRecord | undefined, type: TypeName): KeyRecord | undefined =>
  rec && rec.type !== type && !isPresent(rec) ? undefined : rec;

/** Would this effect lose to what the key holds (a register write older than the current one)? */
export function effectLoses(rec: KeyRecord | undefined, type: TypeName, effect: unknown): boolean {
  if (!rec || rec.type !== type) return false;
  return dataType(type).loses?.(rec.state, effect) ?? false;
}

/**
 * Take an effect back out of a key's record: an equivocating client's losing version, applied here
 * before the winner arrived. `others` lists the effects of the key's other ops still in the op log
 * (read only by types that rebuild from them). Undefined: the key is left as if never written (the
 * initial state and no other op in the log), which is what a replica that never saw it holds.
 */
export function unapplyEffect(
  rec: KeyRecord | undefined,
  type: TypeName,
  effect: unknown,
  others: () => unknown[],
): KeyRecord | undefined {
  if (!rec || rec.type !== type || effect === null) return rec; // never applied here
  const dt = dataType(type);
  let seen: unknown[] | undefined;
  const rest = () => (seen ??= others());
  const state = dt.unapply(rec.state, effect, rest);
  if (canonicalJson(state) === canonicalJson(dt.initial()) && rest().length === 0) return undefined;
  return { type, state };
}

/** The clock stamp an effect carries (register writes), for the receiver to bound and absorb. */
export const effectStamp = (type: TypeName, effect: unknown): Hlc | undefined =>
  effect === null ? undefined : dataType(type).stampOf?.(effect);

/**
 * Apply an effect decided elsewhere. Returns null when the key already holds another type
 * (a concurrent first write of a different type: the certified order settles it); a deleted record
 * of another type is replaced, as the origin that decided the effect replaced it.
 */
export function applyEffect(held: KeyRecord | undefined, type: TypeName, effect: unknown): KeyRecord | null {
  const rec = takeable(held, type);
  if (rec && rec.type !== type) return null;
  const dt = dataType(type);
  return { type, state: dt.apply(rec ? rec.state : dt.initial(), effect) };
}

/** An effect still waiting for its certificate: the type its op names, and the effect its origin decided. */
export interface PendingEffect {
  type: TypeName;
  effect: unknown;
}

/**
 * A key's tentative record: its certified record with the effects of the key's ops not yet certified
 * applied on top. Effects commute (CRDT types; account deltas add up; a register keeps the greatest
 * stamp, and a certified register's stamp is below every origin's clock), so the order of `pending`
 * does not matter and replicas that hold the same certificate and the same uncertified ops agree.
 * Whatever the certified order decided differently (a withdraw it rejected, the other version of an
 * equivocating client's op, an effect its origin lied about) is gone from the result. An effect of
 * another type than the record's is skipped (the certified order rejects its op). Undefined: the key
 * holds nothing yet.
 */
export function rebaseRecord(
  certified: KeyRecord | undefined,
  pending: readonly PendingEffect[],
): KeyRecord | undefined {
  let rec = certified;
  for (const p of pending) {
    if (p.effect === null) continue;
    rec = applyEffect(rec, p.type, p.effect) ?? rec;
  }
  return rec;
}
