/**
 * Executing ops in the certified order, as one pure function over a record store, so the PBFT
 * state machine (an in-memory Map) and an edge replica's certified state (SQLite rows) run exactly
 * the same code and so reach the same values and the same state root.
 */
import type { Json } from "../canonical.js";
import { CERTIFIED_ORDER, decideOp, isPresent, opValue, valueOf, type KeyRecord } from "../materialize.js";
import { authorize, authorityKeyOf } from "../namespaces/authorize.js";
import { NAMESPACE_POLICY, type NamespacePolicy } from "../namespaces/policy.js";
import { opBody, opIdOf, parseOp, type SignedOp } from "../ops.js";
import { recordStateHash, stateValueBytes, type StateValue } from "./hashing.js";
import type { OpResult } from "./types.js";

import { keyProblem } from "../kv-key.js";
import { EXECUTED_TYPE } from "./executed.js";
import type { RecordStore } from "./record-store.js";
export type { RecordStore };

export interface OpsExecution {
  /** One result per op, in op order. */
  results: OpResult[];
  /**
   * The keys whose record changed, with their final record (undefined: removed by a `delete`): what
   * the state tree must update.
   */
  changed: Map<string, KeyRecord | undefined>;
}

/**
 * Decide and apply each op in order against `store`. Each op is first authorized against its
 * namespace's record as this order has produced it (shared/namespaces/authorize.ts): a denied op is
 * rejected (`not_authorized`, `namespace_taken`) and changes nothing. An `account.withdraw` is
 * decided against the balance this order has produced; an op on a key of another type is rejected
 * (`type_mismatch`). The caller must already have dropped ops executed in earlier batches (dedupe
 * by op id). `policy`: which unclaimed namespaces are open, the same at every node and replica.
 *
 * A record an op leaves reading as absent (a `delete`, which in this order observes the whole record)
 * is removed: the key leaves the state tree, a read proves its absence, and the next op on it starts
 * from nothing, of any type.
 */
export function executeOps(
  store: RecordStore,
  ops: readonly SignedOp[],
  policy: NamespacePolicy = NAMESPACE_POLICY,
): OpsExecution {
  const results: OpResult[] = [];
  const changed = new Map<string, KeyRecord | undefined>();
  for (const raw of ops) {
    // Ordering checked signatures, but the certified order must never crash or corrupt state on an
    // op that slipped past shape checks (e.g. a signed op with out-of-range args from a Byzantine
    // client via a careless node): such an op is rejected, deterministically, everywhere.
    let op: SignedOp;
    try {
      op = parseOp(raw);
    } catch {
      results.push({
        opId: opIdOf(raw),
        status: "rejected",
        reason: INVALID_OP,
        value: valueOfKey(store, raw),
      });
      continue;
    }
    const denied = authorize(store.get(authorityKeyOf(op)), op, policy);
    if (denied !== null) {
      const value = opValue(store.get(op.key), op.type);
      results.push({ opId: opIdOf(op), status: "rejected", reason: denied, value });
      continue;
    }
    const before = store.get(op.key);
    const out = decideOp(before, opBody(op), CERTIFIED_ORDER);
    if (out.effect !== null && out.record) {
      const rec = isPresent(out.record) ? out.record : undefined;
      // a delete of a key the state does not hold changes nothing (no row, no tree update)
      if (rec !== undefined || before !== undefined) {
        store.set(op.key, rec);
        changed.set(op.key, rec);
      }
    }
    const r: OpResult = { opId: opIdOf(op), status: out.status, value: out.value };
    if (out.reason !== undefined) r.reason = out.reason;
    results.push(r);
  }
  return { results, changed };
}

/** The rejection reason of an op that fails `parseOp` in the certified order. */
export const INVALID_OP = "invalid_op";

function valueOfKey(store: RecordStore, op: SignedOp): Json {
  // Not a user key (e.g. a reserved key of the executed-ids records): it has no user value.
  if (typeof op?.key !== "string" || keyProblem(op.key) !== null) return null;
  return valueOf(store.get(op.key));
}

/**
 * What the state tree commits to for a record: its type, user-visible value and the hash of its
 * whole state (everything that decides how later ops on the key execute; see `hashing.ts`).
 */
export const stateValueOf = (rec: KeyRecord): StateValue => ({
  type: rec.type,
  // an executed-ids record (executed.ts) has no user-visible value; its state hash is what counts
  value: (rec.type as string) === EXECUTED_TYPE ? null : valueOf(rec),
  stateHash: recordStateHash(rec.state),
});

/** The canonical bytes the state tree hashes for a record. */
export const recordValueBytes = (rec: KeyRecord): Uint8Array => stateValueBytes(stateValueOf(rec));
