/**
 * The origin's side of delivery: new own ops to the replicate queue (drain, the fast path), ops
 * some peer has not confirmed sent again (resend), an equivocation's both versions to every peer,
 * and the op log collected once delivered, certified and past the dedupe horizon (gc).
 * Decisions are pure (shared/delivery/resend.ts, op-gc.ts); this does the reads, sends and deletes.
 */
import { gcBounds } from "../shared/delivery/op-gc.js";
import { resendPlan } from "../shared/delivery/resend.js";
import { GC_BATCH_MAX, OUTBOX_DRAIN_MAX, RESEND_MAX, horizonMs } from "../shared/delivery/settings.js";
import { packMessages, type ReplicateMessage } from "../shared/replication.js";
import type { Env } from "../platform/env.js";
import type { ReplicaBoundary } from "../platform/replica-boundary.js";
import type { DeliveryStore } from "./delivery-store.js";
import type { ReplicaStore } from "./storage/replica-store.js";

export class Outbox {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    private readonly store: ReplicaStore,
    private readonly book: DeliveryStore,
    private readonly boundary: ReplicaBoundary,
    /** The peers' names of replica `me`. */
    private readonly peers: (me: string) => string[],
    /** A task found work: the replica is not idle. */
    private readonly onWork: () => void,
  ) {}

  /** Own ops written but not drained yet. */
  unsent(): boolean {
    return this.store.logs.ownHead() > this.sentPos();
  }

  private sentPos(): number {
    return Number(this.store.getMeta("sent_pos") ?? "0");
  }

  /** New own ops → the queue (fast path). At least once: a crash after send re-sends. */
  async drain(me: string): Promise<boolean> {
    const sent = this.sentPos();
    const rows = this.store.logs.page(me, sent, OUTBOX_DRAIN_MAX);
    if (rows.length === 0) return false;
    this.onWork();
    await this.send(packMessages(me, rows));
    this.store.setMeta("sent_pos", String(sent + rows.length));
    return rows.length === OUTBOX_DRAIN_MAX;
  }

  /** Own ops sent before the previous re-send tick and still unconfirmed by some peer: again, to those. */
  async resend(me: string): Promise<boolean> {
    const plan = resendPlan({
      peers: this.peers(me),
      acks: this.book.acks(),
      sentAtLastTick: Number(this.store.getMeta("resend_mark") ?? "0"),
      limit: RESEND_MAX,
    });
    if (plan) {
      this.onWork();
      const rows = this.store.logs.page(me, plan.after, RESEND_MAX, plan.through);
      const { after, through, targets } = plan;
      console.log({ event: "resend", replica: me, after, through, targets });
      await this.send(packMessages(me, rows, plan.targets));
    }
    this.store.setMeta("resend_mark", String(this.sentPos()));
    return false;
  }

  private async send(messages: ReplicateMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.boundary.sendReplicate(messages);
  }

  /**
   * Both versions of an op a client equivocated on, to every peer (entries without a position, so no
   * cursor moves): a replica that holds one version and receives the other refuses the client too.
   * Without it the losing version of one of this replica's own ops may never leave here (its log row
   * now holds the winner), and only this replica would refuse the client. Best effort: a lost send
   * leaves the peers' values converged all the same, only their refusal is missing.
   */
  async shareEvidence(me: string, entriesJson: string[]): Promise<void> {
    try {
      await this.send(packMessages(me, entriesJson));
    } catch (e) {
      console.log({ event: "evidence_share_failed", replica: me, error: String(e) });
    }
  }

  /** Op rows that are delivered, certified and past the horizon, deleted in bounded runs. */
  async collect(me: string): Promise<boolean> {
    const peers = this.peers(me);
    const cursors: Record<string, { cursor: number; syncedAt: number }> = {};
    for (const p of peers) cursors[p] = this.book.cursor(p);
    const bounds = gcBounds({
      me,
      peers,
      acks: this.book.acks(),
      cursors,
      nowMs: Date.now(),
      horizonMs: horizonMs(this.env),
      certificationRequired: this.env.CERTIFY !== "off",
    });
    let left = GC_BATCH_MAX;
    for (const b of bounds) {
      if (left <= 0) break;
      left -= this.storage.transactionSync(() =>
        this.store.collectOps(b.origin, b.posMax, b.tsBefore, b.certifiedOnly, left),
      );
    }
    if (left < GC_BATCH_MAX) console.log({ event: "gc", replica: me, collected: GC_BATCH_MAX - left });
    return left <= 0;
  }
}
