/**
 * An equivocating client at a replica: two different ops, both validly signed, under one op id.
 * Evidence is kept, the client's new ops are refused here, and the replica keeps the version
 * `equivocationWinner` picks, so every replica that sees both ends with the same one (until the
 * certified order settles it). Runs inside the host's transaction; the host then shares both
 * versions with its peers, so they refuse the client too.
 *
 * Detection needs the held version's op log row. Rows are collected only once delivered everywhere
 * and past the dedupe horizon, so two versions sent out at about the same time meet while rows are
 * there; a version arriving after the held one's row was collected is taken for a duplicate, and only
 * the certified order settles it. See docs/architecture.md ("Equivocating clients").
 */
import { AspecError } from "../errors.js";
import { equivocationWinner, sameContent } from "../equivocation.js";
import { opValue, rebaseRecord, type KeyRecord } from "../materialize.js";
import { opIdOf, type SignedOp } from "../ops.js";
import type { ReplicatedOp } from "../replication.js";
import { applyEntryEffect } from "./apply-effect.js";
import type { ReplicaEvent } from "./events.js";
import type { ReplicaStateStore } from "./store.js";

/** The version this replica holds under `e`'s op id, if it is a different op (else undefined). */
export function knownOtherVersion(store: ReplicaStateStore, e: ReplicatedOp): SignedOp | undefined {
  const stored = store.getOp(opIdOf(e.op))?.op;
  return stored && !sameContent(stored, e.op) ? stored : undefined;
}

/** Would `incoming` replace `held` (so its effect must be applied here)? */
export const replaces = (held: SignedOp, incoming: SignedOp): boolean =>
  equivocationWinner(held, incoming) === incoming;

/**
 * A second version arrived from another replica (its signature checked): keep the evidence, refuse
 * the client from now on, and if it is the winner put it in place of the one held: the held
 * version's effect taken out of its key, the winner's applied to its own. `replaced`: it was put in.
 */
export function resolveEquivocation(
  store: ReplicaStateStore,
  held: SignedOp,
  e: ReplicatedOp,
  nowMs: number,
  certifiedRecord: (key: string) => KeyRecord | undefined,
): { replaced: boolean; event: ReplicaEvent } {
  const opId = opIdOf(e.op);
  const win = replaces(held, e.op);
  store.recordEvidence(win ? e.op : held, win ? held : e.op, true, nowMs);
  // `replaced` in the log says which version won, even where the certified order settled it already
  const event: ReplicaEvent = {
    event: "client_equivocated",
    fields: { client: e.op.client, opId, replaced: win },
  };
  // once certified, the certified order has settled it: the key was rebuilt from the certified state
  if (!win || store.isOpCertified(opId)) return { replaced: false, event };
  // the held version's key rebuilt without it, as every rebase builds a key: its certified record
  // and the effects not certified yet (taking the effect out of the tentative record instead gave
  // a register back a certified write under its origin stamp, and deleted a set whose certified
  // record is empty: found by the whole-system simulator, test/sim/system)
  const without = rebaseRecord(certifiedRecord(held.key), store.pendingEffects(held.key, opId));
  if (without) store.putRecord(held.key, without);
  else store.deleteRecord(held.key);
  store.unmarkSuperseded(opId);
  const { record } = applyEntryEffect(store, e);
  store.replaceOp(opId, e, opValue(record, e.op.type));
  return { replaced: true, event };
}

/** 403 `client_equivocated` once replicas accepted two versions of one of this client's ops. */
export function equivocatorRefusal(store: ReplicaStateStore, client: string): AspecError | undefined {
  if (!store.isClientRefused(client)) return undefined;
  return new AspecError(
    "client_equivocated",
    "this client signed two different ops under one op id; this replica refuses its ops",
    { evidence: `/v1/clients/${client}/evidence` },
  );
}
