/**
 * A receiver's decisions on ops from another replica (a queue message or an anti-entropy page),
 * in two steps around the host's asynchronous signature checks:
 *
 * 1. `screenEntries` (before verifying): malformed entries counted, copies already held dropped, so
 *    only the fresh ones cost a signature check.
 * 2. `applyEntries` (inside the host's transaction, with each fresh entry's verification result):
 *    each entry forged, equivocating, a duplicate that arrived meanwhile, refused for a stamp too far
 *    ahead, or applied (unless certified already) and written to the op log.
 *
 * A peer's op this replica would not authorize (a grant or revocation it has not seen, or an origin
 * that lies) is applied all the same, as the origin decided it, and logged
 * (`remote_not_authorized`): tentative effects follow the origin's decision so that replicas holding
 * the same ops hold the same tentative state whatever order grants and writes arrived in (refusing
 * it here would leave this replica without a write that a late grant allows, for good). The
 * certified order is the final word: if it rejects the op (`not_authorized`), the op's effect drops
 * out of every replica's tentative state at the certificate (`rebaseRecord`) and its client's SDK
 * emits `rollback`.
 *
 * Besides op ids, a copy is known to be a duplicate by its origin position (the host's per-origin
 * cursor, `seen`) or, once its row was collected, by the client's collected seq. Every position
 * handled (applied, duplicate or forged) is returned for the cursor; one refused for now (stamp
 * ahead) is not, so anti-entropy asks for it again.
 */
import type { Hlc } from "../hlc.js";
import { opValue, type KeyRecord } from "../materialize.js";
import { authorize, authorityKeyOf } from "../namespaces/authorize.js";
import { NAMESPACE_POLICY, type NamespacePolicy } from "../namespaces/policy.js";
import { opIdOf, type SignedOp } from "../ops.js";
import { parseEntryList, type ApplyReport, type ReplicatedOp } from "../replication.js";
import { applyEntryEffect } from "./apply-effect.js";
import { StepClock, stampAheadMs } from "./clock.js";
import { knownOtherVersion, replaces, resolveEquivocation } from "./equivocation.js";
import type { ReplicaEvent } from "./events.js";
import type { ReplicaStateStore } from "./store.js";

/** The report's counts; the host adds its cursor for the origin once it recorded `handled`. */
export type ApplyCounts = Omit<ApplyReport, "cursor">;

export const NO_COUNTS: ApplyCounts = {
  applied: 0,
  duplicates: 0,
  malformed: 0,
  badSignature: 0,
  typeConflicts: 0,
  stampAhead: 0,
  equivocations: 0,
};

/** Has the origin position been handled here (the host's cursor for the origin, as of now)? */
export type Seen = (pos: number | undefined) => boolean;

export interface Screened {
  /** Entries to verify and apply, in order. */
  fresh: ReplicatedOp[];
  counts: ApplyCounts;
  handled: number[];
  events: ReplicaEvent[];
}

const isOld = (store: ReplicaStateStore, seen: Seen, e: ReplicatedOp): boolean =>
  seen(e.pos) || store.hasOp(opIdOf(e.op)) || e.op.seq <= store.collectedSeq(e.op.client);

/** Step 1: parse each entry, drop copies already held (but not another version of an op held). */
export function screenEntries(
  store: ReplicaStateStore,
  origin: string,
  raw: readonly unknown[],
  seen: Seen,
): Screened {
  const out: Screened = { fresh: [], counts: { ...NO_COUNTS }, handled: [], events: [] };
  for (const e of parseEntryList(raw)) {
    if (e === null) out.counts.malformed++;
    else if (isOld(store, seen, e) && !knownOtherVersion(store, e)) {
      out.counts.duplicates++;
      if (e.pos !== undefined) out.handled.push(e.pos);
    } else out.fresh.push(e);
  }
  if (out.counts.malformed > 0)
    out.events.push({ event: "remote_malformed", fields: { origin, count: out.counts.malformed } });
  return out;
}

export interface ApplyInput {
  origin: string;
  /** `screenEntries`'s result. */
  screened: Screened;
  /** Whether each of `screened.fresh` carries a valid client signature (the host checked). */
  verified: readonly boolean[];
  nowMs: number;
  /** The replica's clock before the step. */
  hlc: Hlc;
  isCertified: (op: SignedOp) => boolean;
  /** A key's certified record (an equivocation rebuilds the held version's key from it). */
  certifiedRecord: (key: string) => KeyRecord | undefined;
  /** The cursor as of the transaction (taken again: it may have moved during verification). */
  seen: Seen;
  /** Which unclaimed namespaces are open (only for the `remote_not_authorized` event). */
  policy?: NamespacePolicy;
}

export interface ApplyResult {
  /** The screen's counts and this step's. */
  counts: ApplyCounts;
  /** Origin positions handled (the screen's and this step's): the host moves its cursor over them. */
  handled: number[];
  /** Both versions of each equivocation first learnt here, as entry texts, for the host to share. */
  evidence: string[];
  /** This step's events (not the screen's). */
  events: ReplicaEvent[];
  /** The replica's clock after the step. */
  hlc: Hlc;
}

/** Step 2: apply the fresh entries (inside the host's transaction). */
export function applyEntries(store: ReplicaStateStore, input: ApplyInput): ApplyResult {
  const { origin, screened, nowMs } = input;
  const counts = { ...screened.counts };
  const handled = [...screened.handled];
  const events: ReplicaEvent[] = []; // the screen's own were the host's to log before verifying
  const evidence: string[] = [];
  const clock = new StepClock(store, input.hlc);
  const policy = input.policy ?? NAMESPACE_POLICY;
  const handle = (e: ReplicatedOp) => {
    if (e.pos !== undefined) handled.push(e.pos);
  };
  const stampAhead = (e: ReplicatedOp): boolean => {
    const aheadMs = stampAheadMs(e, nowMs);
    if (aheadMs === undefined) return false;
    events.push({ event: "remote_stamp_ahead", fields: { origin, opId: opIdOf(e.op), aheadMs } });
    return true;
  };
  screened.fresh.forEach((e, i) => {
    const opId = opIdOf(e.op);
    if (!input.verified[i]) {
      handle(e);
      counts.badSignature++;
      events.push({ event: "remote_bad_signature", fields: { origin, opId } });
      return;
    }
    const held = knownOtherVersion(store, e);
    if (held) {
      if (replaces(held, e.op) && stampAhead(e)) return void counts.stampAhead++;
      if (!store.isEquivocationKnown(opId))
        evidence.push(store.entryOf(opId)!, JSON.stringify({ ...e, pos: undefined }));
      const r = resolveEquivocation(store, held, e, nowMs, input.certifiedRecord);
      events.push(r.event);
      if (r.replaced) clock.absorb(e.op.type, e.effect);
      handle(e);
      return void counts.equivocations++;
    }
    if (isOld(store, input.seen, e)) {
      handle(e);
      return void counts.duplicates++; // arrived during verification
    }
    if (stampAhead(e)) return void counts.stampAhead++;
    if (
      e.status === "ok" &&
      authorize(store.getRecord(authorityKeyOf(e.op)), e.op, policy) === "not_authorized"
    )
      events.push({ event: "remote_not_authorized", fields: { origin, opId, key: e.op.key } });
    // certified already: its outcome is in the certified state the key was rebuilt from
    const certified = input.isCertified(e.op);
    const a = certified ? undefined : applyEntryEffect(store, e);
    if (a?.outcome === "applied") clock.absorb(e.op.type, e.effect);
    if (a?.outcome === "type_conflict") {
      counts.typeConflicts++;
      events.push({ event: "type_conflict", fields: { origin, opId, key: e.op.key } });
    }
    const record = a ? a.record : store.getRecord(e.op.key);
    store.insertOp(opId, origin, e, opValue(record, e.op.type), e.pos ?? null, certified);
    store.noteClientSeq(e.op.client, e.op.seq, 0);
    handle(e);
    counts.applied++;
  });
  return { counts, handled, evidence, events, hlc: clock.now };
}
