/**
 * A simulated replica's origin side of delivery, MODELLED after durable-objects/delivery.ts (whose
 * decisions are not all pure code yet): the drain (own ops past the last one sent go to every peer
 * at once: the queue's fast path), peers' confirmations (their cursors for this origin), re-sends
 * (the product's pure `resendPlan`), anti-entropy answers (own ops after a peer's cursor, one page),
 * and which own ops are due to go to the PBFT nodes again. All of it durable (SQLite in the product).
 */
import { resendPlan } from "../../../shared/delivery/resend.js";
import { ANTI_ENTROPY_PAGE_MAX as PAGE_MAX, RESEND_MAX } from "../../../shared/delivery/settings.js";
import type { SignedOp } from "../../../shared/ops.js";
import type { ReplicatedOp } from "../../../shared/replication.js";
import type { SimReplicaStore } from "./replica-store.js";

/** An own op uncertified this long after its ts is submitted to the nodes again. */
export const CERTIFY_AFTER_MS = 800;

export class OriginDelivery {
  private readonly acks: Record<string, number> = {};
  private sentThrough = 0;
  private sentAtLastTick = 0;
  /** Own positions planted as lost (test-only): never sent, served or submitted. */
  readonly lost = new Set<number>();

  constructor(
    private readonly store: SimReplicaStore,
    private readonly peers: readonly number[],
  ) {}

  /** Own ops not sent yet, to every peer. */
  drain(): ReplicatedOp[] {
    const head = this.store.ownHead();
    if (head <= this.sentThrough) return [];
    const entries = this.entries(this.sentThrough, head);
    this.sentThrough = head;
    return entries;
  }

  /** A peer confirmed every own op up to `cursor` (after applying a message, or by pulling after it). */
  confirm(peer: number, cursor: number): void {
    const name = `r${peer}`;
    this.acks[name] = Math.max(this.acks[name] ?? 0, cursor);
  }

  /** At a re-send tick: own ops sent before the previous tick and still unconfirmed, to the peers missing them. */
  resend(): { targets: number[]; entries: ReplicatedOp[] } | null {
    const peers = this.peers.map((p) => `r${p}`);
    const plan = resendPlan({
      peers,
      acks: this.acks,
      sentAtLastTick: this.sentAtLastTick,
      limit: RESEND_MAX,
    });
    this.sentAtLastTick = this.sentThrough;
    if (!plan) return null;
    return {
      targets: plan.targets.map((t) => Number(t.slice(1))),
      entries: this.entries(plan.after, plan.through),
    };
  }

  /** An anti-entropy pull's answer: own ops after the peer's cursor (one page). */
  page(after: number): ReplicatedOp[] {
    return this.entries(after, this.store.ownHead());
  }

  /** Own ops still uncertified `CERTIFY_AFTER_MS` after their ts: to the nodes again. */
  dueForNodes(nowMs: number): SignedOp[] {
    return this.store
      .uncertifiedOwn()
      .filter((x) => !this.lost.has(x.pos) && nowMs - x.op.ts >= CERTIFY_AFTER_MS)
      .map((x) => x.op);
  }

  private entries(after: number, through: number): ReplicatedOp[] {
    return this.store.ownEntries(after, through, PAGE_MAX).filter((e) => !this.lost.has(e.pos!));
  }
}
