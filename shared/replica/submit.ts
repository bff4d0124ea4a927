/**
 * The origin replica's decision on a client's op, after the host parsed it and verified its
 * signature: refuse it (an equivocating client, a collected seq, a replay, a clock or seq out of
 * range, a write its namespace does not allow as this replica holds it, a type mismatch), answer a
 * retry with the stored outcome, or decide it against the tentative state, stamp it with the
 * replica's clock and write op, state and client seq. Pure and synchronous over the store: the host
 * runs it inside the write's one transaction; every refusal is decided before anything is written.
 */
import { admitOp } from "../admission.js";
import { AspecError, isAspecError } from "../errors.js";
import { tick, type Hlc } from "../hlc.js";
import { decideOp, opValue, type Outcome } from "../materialize.js";
import { authorize, authorityKeyOf } from "../namespaces/authorize.js";
import { namespaceOfOp } from "../namespaces/names.js";
import { NAMESPACE_POLICY, type NamespacePolicy } from "../namespaces/policy.js";
import { opIdOf, type SignedOp } from "../ops.js";
import type { ReplicatedOp } from "../replication.js";
import type { TentativeResult } from "../replies.js";
import { StepClock } from "./clock.js";
import { equivocatorRefusal } from "./equivocation.js";
import type { ReplicaStateStore } from "./store.js";

export interface SubmitInput {
  /** Parsed, and its signature verified by the host. */
  op: SignedOp;
  /** This replica's name (the op log row's origin). */
  me: string;
  nowMs: number;
  /** The replica's clock before the step. */
  hlc: Hlc;
  /** Is the op in the certified order already (its certificate came before this copy)? */
  isCertified: (op: SignedOp) => boolean;
  /** Which unclaimed namespaces are open (the certified order's own, so both decide alike). */
  policy?: NamespacePolicy;
}

/** What the op reply says of the op here. */
export interface SubmitOutcome {
  status: TentativeResult["status"];
  reason?: string | undefined;
  value: TentativeResult["value"];
  superseded: boolean;
  /** A retry of an op held here: nothing was written. */
  duplicate: boolean;
  /** The client's ops accepted here and not certified yet. */
  pending: number;
}

export type SubmitResult =
  { kind: "accepted"; outcome: SubmitOutcome; hlc: Hlc } | { kind: "refused"; error: AspecError };

export function submitOp(store: ReplicaStateStore, input: SubmitInput): SubmitResult {
  const { op, nowMs } = input;
  const refused = (error: AspecError): SubmitResult => ({ kind: "refused", error });
  const equivocator = equivocatorRefusal(store, op.client);
  if (equivocator) return refused(equivocator);
  const opId = opIdOf(op);
  const stored = store.getOp(opId);
  // Its row collected (delivered everywhere, past the dedupe horizon): never applied twice.
  if (!stored && op.seq <= store.collectedSeq(op.client))
    return refused(
      new AspecError("op_expired", `seq ${op.seq} is at or below this client's collected ops`, {
        lastSeq: store.clientMaxSeq(op.client),
      }),
    );
  let admission: ReturnType<typeof admitOp>;
  try {
    admission = admitOp(op, stored?.op, store.clientMaxSeq(op.client), nowMs);
  } catch (e) {
    if (isAspecError(e)) return refused(e);
    throw e;
  }
  if (admission.kind === "duplicate") {
    const outcome: SubmitOutcome = {
      status: stored!.status,
      reason: stored!.reason,
      value: stored!.value,
      superseded: store.isSuperseded(opId),
      duplicate: true,
      pending: store.clientPending(op.client),
    };
    return { kind: "accepted", outcome, hlc: input.hlc };
  }
  const rec = store.getRecord(op.key);
  // Authorized against the namespace record as this replica holds it (tentative): a write it finds
  // not allowed is refused, nothing written; if a grant it had not seen yet allows it in the
  // certified order, the client retries. A claim of a namespace it holds as claimed is accepted as
  // rejected (the certified order may still find it first, as for a withdraw). An op certified
  // already is not judged again: its outcome is decided, and the record may since have changed.
  const certified = input.isCertified(op);
  const denied = certified
    ? null
    : authorize(store.getRecord(authorityKeyOf(op)), op, input.policy ?? NAMESPACE_POLICY);
  if (denied === "not_authorized")
    return refused(
      new AspecError(
        "not_authorized",
        `this client may not ${op.type}.${op.op} in namespace '${namespaceOfOp(op)}'`,
        { namespace: namespaceOfOp(op) },
      ),
    );
  const d: Outcome =
    denied === "namespace_taken"
      ? { status: "rejected", reason: denied, effect: null, record: rec, value: opValue(rec, op.type) }
      : decideOp(rec, op, { kind: "origin", stamp: tick(input.hlc, nowMs) });
  if (d.reason === "type_mismatch")
    return refused(new AspecError("type_mismatch", `key '${op.key}' holds a ${rec!.type}, not a ${op.type}`));
  const clock = new StepClock(store, input.hlc);
  clock.absorb(op.type, d.effect);
  const entry: ReplicatedOp = { op, status: d.status, effect: d.effect };
  if (d.reason) entry.reason = d.reason;
  // certified already: not counted as uncertified, and not applied either: the certified state the
  // key was rebuilt from holds its outcome
  if (!certified && d.record && d.record !== rec) store.putRecord(op.key, d.record);
  store.insertOp(opId, input.me, entry, d.value, store.nextOwnPos(), certified);
  const pending = store.noteClientSeq(op.client, op.seq, certified ? 0 : 1);
  const outcome: SubmitOutcome = {
    status: d.status,
    reason: d.reason,
    value: d.value,
    superseded: d.superseded === true,
    duplicate: false,
    pending,
  };
  return { kind: "accepted", outcome, hlc: clock.now };
}
