/**
 * How an EdgeReplica gets its ops to every other replica, and collects its op log: the tasks of
 * its one alarm and the RPC answers they rely on. Decisions are pure code in shared/delivery/
 * (bounds and knobs in settings.ts); the parts doing the I/O (docs/architecture.md, "Delivery and
 * anti-entropy", "Collecting the op log"):
 * - the alarm and its deadlines, idle back-off: durable-objects/delivery-clock.ts;
 * - drain (new own ops to the replicate queue, the fast path), resend (own ops some peer has not
 *   confirmed, to those peers), gc (op rows delivered, certified and past the horizon):
 *   durable-objects/outbox.ts;
 * - confirmations: the queue consumer reports each target's cursor for this origin after the target
 *   applied a message; a peer's anti-entropy pull reports it too (here). Only confirmed ops are delivered;
 * - antiEntropy: every period, ask each peer for its own ops after this replica's cursor for it, in
 *   bounded pages: durable-objects/anti-entropy.ts;
 * - certify: own ops still uncertified after a while to the nodes again, paced:
 *   durable-objects/certify-task.ts;
 * - certifiedSync: fetch the certified batches this replica misses from a PBFT node
 *   (durable-objects/certified-sync.ts); when it diverged or fell behind what every node keeps,
 *   a certified state transfer instead (durable-objects/certified-transfer.ts).
 */
import type { ReplicaConfig } from "../shared/config.js";
import { handle, isHandled } from "../shared/delivery/origin-cursor.js";
import {
  GAP_SYNC_DELAY_MS,
  ANTI_ENTROPY_PAGE_MAX,
  drainDelayMs,
  periodsOf,
} from "../shared/delivery/settings.js";
import type { Task } from "../shared/delivery/timers.js";
import type { AlarmStats, CertifyStats } from "../shared/rpc/replica-stats.js";
import type { Env } from "../platform/env.js";
import type { ReplicaBoundary } from "../platform/replica-boundary.js";
import { replicasOf } from "../platform/routing.js";
import { pullFromPeers, type ApplyEntries } from "./anti-entropy.js";
import { CertifiedSync, clusterNodes, type SyncTarget } from "./certified-sync.js";
import { CertifiedTransfer, transferNodes, type TransferTarget } from "./certified-transfer.js";
import { CertifyTask } from "./certify-task.js";
import { DeliveryClock } from "./delivery-clock.js";
import { DeliveryStore } from "./delivery-store.js";
import { Outbox } from "./outbox.js";
import type { ReplicaStore } from "./storage/replica-store.js";

export class Delivery {
  readonly book: DeliveryStore;
  readonly certifiedSync: CertifiedSync;
  readonly certifiedTransfer: CertifiedTransfer;
  private readonly clock: DeliveryClock;
  private readonly certifyTask: CertifyTask;
  private readonly outbox: Outbox;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly store: ReplicaStore,
    /** Where everything this replica sends goes through (platform/replica-boundary.ts). */
    private readonly boundary: ReplicaBoundary,
    private readonly certified?: SyncTarget,
    readonly transferTarget?: TransferTarget,
  ) {
    this.book = new DeliveryStore(ctx.storage.sql);
    this.certifiedSync = new CertifiedSync(clusterNodes(env));
    this.certifiedTransfer = new CertifiedTransfer(ctx, transferNodes(env));
    this.clock = new DeliveryClock(ctx.storage, env, this.book, store);
    this.certifyTask = new CertifyTask(env, store, boundary);
    const peerNames = (me: string) => this.peers(me).map((p) => p.name);
    this.outbox = new Outbox(ctx.storage, env, store, this.book, boundary, peerNames, this.clock.noteWork);
  }

  peers(me: string): ReplicaConfig[] {
    return replicasOf(this.env.REPLICAS).filter((r) => r.name !== me);
  }
  isPeer(me: string, name: string): boolean {
    return name !== me && replicasOf(this.env.REPLICAS).some((r) => r.name === name);
  }

  // --- receiver side -----------------------------------------------------------------------

  /** Whether a position of `origin` was handled here already (a re-sent or pulled copy), as of now. */
  seenIn(origin: string): (pos: number | undefined) => boolean {
    const c = this.book.cursor(origin);
    return (pos) => pos !== undefined && isHandled(c, pos);
  }
  /** Record positions handled (inside the apply transaction); returns the new cursor. */
  handled(me: string, origin: string, positions: number[]): number {
    const c = this.book.cursor(origin);
    if (!this.isPeer(me, origin)) return c.cursor;
    const next = handle(c, positions);
    if (next.cursor !== c.cursor || positions.length > 0)
      this.book.putCursor(origin, { ...next, syncedAt: c.syncedAt });
    return next.cursor;
  }

  // --- origin side -------------------------------------------------------------------------

  /** Confirmations from the queue consumer: `{peer: cursor for this origin}`. */
  confirm(me: string, acks: Record<string, number>): void {
    for (const [peer, pos] of Object.entries(acks))
      if (this.isPeer(me, peer) && Number.isSafeInteger(pos) && pos > 0) this.book.noteAck(peer, pos);
  }

  /**
   * A peer asks for this replica's own ops after its cursor (and so confirms everything ≤ it): the
   * page's wire text (`logPageText`).
   */
  logPage(me: string, requester: string, after: number, limit: number): string {
    const from = Number.isSafeInteger(after) && after > 0 ? after : 0;
    if (from > 0 && this.isPeer(me, requester)) this.book.noteAck(requester, from);
    const n = Math.max(1, Math.min(ANTI_ENTROPY_PAGE_MAX, Number.isSafeInteger(limit) ? limit : 1));
    return this.boundary.servePage(this.store.logs.page(me, from, n), this.store.logs.ownHead());
  }

  // --- the alarm -----------------------------------------------------------------------------

  /** A local write: drain it `DRAIN_DELAY_MS` from now unless a drain is due sooner. */
  scheduleDrain(): Promise<void> {
    return this.clock.scheduleDrain(drainDelayMs(this.env));
  }

  /**
   * A certified batch was buffered: a gap opened below `seq`. Run the catch-up soon (not at once:
   * the queue usually brings the missing seq within milliseconds).
   */
  async gapSeen(seq: number): Promise<void> {
    if (this.env.CERTIFY === "off") return;
    this.certifiedSync.noteGap(seq);
    await this.clock.soon("certifiedSync", Math.min(GAP_SYNC_DELAY_MS, periodsOf(this.env).certifiedSync));
  }

  /** Traffic (a local write, an op received from a peer): back to the busy pace at once. */
  wake(): Promise<void> {
    return this.clock.wake();
  }

  /** On first contact after start: make sure the periodic tasks have deadlines and the alarm is set. */
  ensureTimers(): Promise<void> {
    return this.clock.ensureTimers();
  }

  /** Run every task that is due and re-arm (durable-objects/delivery-clock.ts). */
  alarm(me: string, apply: ApplyEntries): Promise<void> {
    return this.clock.alarm(me, {
      run: (t) => this.run(t, me, apply),
      unsent: () => this.outbox.unsent(),
    });
  }

  /** One task; true when it stopped at a bound and has more to do at once. */
  private async run(t: Task, me: string, apply: ApplyEntries): Promise<boolean> {
    switch (t) {
      case "drain":
        return this.outbox.drain(me);
      case "resend":
        return this.outbox.resend(me);
      case "antiEntropy":
        return pullFromPeers(
          { env: this.env, me, book: this.book, apply, onWork: this.clock.noteWork },
          this.peers(me),
        );
      case "gc":
        return this.outbox.collect(me);
      case "certify":
        return this.env.CERTIFY === "off" ? false : this.certifyTask.run(me, this.clock.noteWork);
      case "certifiedSync":
        if (this.env.CERTIFY === "off" || !this.certified) return false;
        // diverged, or behind what every node keeps: recover by certified state transfer
        if (this.transferTarget && this.transferWanted(this.transferTarget)) {
          this.clock.noteWork();
          return this.certifiedTransfer.run(me, this.transferTarget);
        }
        return this.certifiedRound(me, this.certified);
    }
  }

  /** A catch-up round; fetching a batch is work (a round that finds the replica current is not). */
  private async certifiedRound(me: string, target: SyncTarget): Promise<boolean> {
    const fetched = this.certifiedSync.stats.fetched;
    const more = await this.certifiedSync.round(me, target);
    if (this.certifiedSync.stats.fetched > fetched) this.clock.noteWork();
    return more;
  }

  private transferWanted(t: TransferTarget): boolean {
    return this.certifiedSync.transferWanted(this.certifiedTransfer.active(), t.diverged(), t.head());
  }

  /** Both versions of an op a client equivocated on, to every peer (durable-objects/outbox.ts). */
  shareEvidence(me: string, entriesJson: string[]): Promise<void> {
    return this.outbox.shareEvidence(me, entriesJson);
  }

  /** The certify task's pace and counts, and how many own ops wait here uncertified. */
  certifyStatus(me: string | undefined): CertifyStats {
    return this.certifyTask.status(me);
  }

  alarmStatus(): AlarmStats {
    return this.clock.status();
  }
}
