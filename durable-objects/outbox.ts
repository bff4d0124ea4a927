/**
 * The origin's side of delivery, as I/O: the replicate messages the delivery core decided (a
 * drain's new own ops, a re-send's unconfirmed ones to the peers missing them) onto the queue, each
 * send's mark stepped back only once it went out (at least once: a crash after the send re-sends);
 * an equivocation's both versions to every peer; and the op rows the core found collectable
 * deleted in bounded runs. The decisions: shared/delivery/origin.ts.
 */
import type { Send } from "../shared/delivery/effects.js";
import type { GcBound } from "../shared/delivery/op-gc.js";
import { packMessages } from "../shared/replication.js";
import type { ReplicaBoundary } from "../platform/replica-boundary.js";
import type { Step } from "./delivery-clock.js";
import type { ReplicaStore } from "./storage/replica-store.js";

/** Each send onto the queue, then its mark (a send that throws leaves the mark where it was). */
export async function sendAll(
  boundary: ReplicaBoundary,
  me: string,
  sends: readonly Send[],
  step: Step,
): Promise<void> {
  for (const s of sends) {
    await boundary.sendReplicate(packMessages(me, s.entries, s.targets));
    step({ kind: "sent", send: s });
  }
}

/**
 * Both versions of an op a client equivocated on, to every peer (entries without a position, so no
 * cursor moves): a replica that holds one version and receives the other refuses the client too.
 * Without it the losing version of one of this replica's own ops may never leave here (its log row
 * now holds the winner), and only this replica would refuse the client. Best effort: a lost send
 * leaves the peers' values converged all the same, only their refusal is missing.
 */
export async function shareEvidence(
  boundary: ReplicaBoundary,
  me: string,
  entriesJson: string[],
): Promise<void> {
  try {
    if (entriesJson.length > 0) await boundary.sendReplicate(packMessages(me, entriesJson));
  } catch (e) {
    console.log({ event: "evidence_share_failed", replica: me, error: String(e) });
  }
}

/** Delete the rows the bounds allow, at most `budget` in all, one transaction per bound; how many. */
export function collect(
  storage: DurableObjectStorage,
  store: ReplicaStore,
  c: { bounds: readonly GcBound[]; budget: number },
): number {
  let left = c.budget;
  for (const b of c.bounds) {
    if (left <= 0) break;
    left -= storage.transactionSync(() =>
      store.collectOps(b.origin, b.posMax, b.tsBefore, b.certifiedOnly, left),
    );
  }
  return c.budget - left;
}
