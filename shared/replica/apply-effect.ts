/**
 * The one way a replicated op's effect reaches the tentative state, whether the op is new here or
 * the winning version of an equivocated op id: applied to its key's record, and marked superseded
 * when it is a register write that lost to what the key held (replies say so).
 */
import { applyEffect, effectLoses, type KeyRecord } from "../materialize.js";
import { opIdOf } from "../ops.js";
import type { ReplicatedOp } from "../replication.js";
import type { ReplicaStateStore } from "./store.js";

export interface EffectApplied {
  /** The key's record afterwards (what the op's row reports the value of). */
  record: KeyRecord | undefined;
  /** `type_conflict`: the key holds another type (a concurrent first write; the certified order settles it). */
  outcome: "applied" | "no_effect" | "type_conflict";
}

export function applyEntryEffect(store: ReplicaStateStore, e: ReplicatedOp): EffectApplied {
  const rec = store.getRecord(e.op.key);
  if (e.effect === null) return { record: rec, outcome: "no_effect" };
  const lost = effectLoses(rec, e.op.type, e.effect);
  const next = applyEffect(rec, e.op.type, e.effect);
  if (!next) return { record: rec, outcome: "type_conflict" };
  store.putRecord(e.op.key, next);
  if (lost) store.markSuperseded(opIdOf(e.op));
  return { record: next, outcome: "applied" };
}
