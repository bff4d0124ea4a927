/**
 * How an EdgeReplica gets its ops to every other replica, and collects its op log: a shell around
 * the delivery core (shared/delivery/core.ts), which decides everything — the alarm's deadlines and
 * idle level, drain, re-send, confirmations, the pages peers pull, anti-entropy, when own ops go to
 * the nodes again and at what pace, which op rows may go. Each step runs inside one SQLite
 * transaction over its state (delivery-store.ts); then the I/O its effects name, each peer call
 * under its deadline (docs/architecture.md, "Delivery and anti-entropy", "Collecting the op log"):
 * - the alarm, set and run: durable-objects/delivery-clock.ts;
 * - replicate messages (drain, re-send, shared evidence) and op rows deleted: durable-objects/outbox.ts;
 * - anti-entropy pulls: durable-objects/anti-entropy.ts; resubmissions: durable-objects/certify-task.ts;
 * - certifiedSync: fetch the certified batches this replica misses from a PBFT node
 *   (durable-objects/certified-sync.ts); when it diverged or fell behind what every node keeps,
 *   a certified state transfer instead (durable-objects/certified-transfer.ts).
 */
import { CLUSTER_F } from "../shared/cluster-config.js";
import type { ReplicaConfig } from "../shared/config.js";
import { DeliveryCore } from "../shared/delivery/core.js";
import type { DeliveryEffects, DeliveryInput } from "../shared/delivery/effects.js";
import { seenIn } from "../shared/delivery/receiver.js";
import type { Task } from "../shared/delivery/timers.js";
import { runStep } from "../shared/host/step.js";
import type { AlarmStats, CertifyStats } from "../shared/rpc/replica-stats.js";
import type { Env } from "../platform/env.js";
import type { ReplicaBoundary } from "../platform/replica-boundary.js";
import { replicasOf } from "../platform/routing.js";
import { pullAll, type ApplyEntries } from "./anti-entropy.js";
import { CertifiedSync, clusterNodes, type SyncTarget } from "./certified-sync.js";
import { CertifiedTransfer, transferNodes, type TransferTarget } from "./certified-transfer.js";
import { resubmit } from "./certify-task.js";
import { applyAlarm, runAlarm, type Step } from "./delivery-clock.js";
import { DeliveryStore, ownLog } from "./delivery-store.js";
import { collect, sendAll, shareEvidence } from "./outbox.js";
import type { ReplicaStore } from "./storage/replica-store.js";

export class Delivery {
  readonly book: DeliveryStore;
  readonly certifiedSync: CertifiedSync;
  readonly certifiedTransfer: CertifiedTransfer;
  /** The core of the bound name (built by the first call that names this replica). */
  private core: DeliveryCore | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly store: ReplicaStore,
    /** Where everything this replica sends goes through (platform/replica-boundary.ts). */
    private readonly boundary: ReplicaBoundary,
    private readonly certified?: SyncTarget,
    readonly transferTarget?: TransferTarget,
  ) {
    this.book = new DeliveryStore(ctx.storage, store);
    this.certifiedSync = new CertifiedSync(clusterNodes(env));
    this.certifiedTransfer = new CertifiedTransfer(ctx, transferNodes(env));
  }

  peers(me: string): ReplicaConfig[] {
    return replicasOf(this.env.REPLICAS).filter((r) => r.name !== me);
  }

  private coreOf(me: string): DeliveryCore {
    if (this.core?.config.me !== me) {
      const env = this.env;
      const config = {
        me,
        peers: this.peers(me).map((p) => p.name),
        knobs: env,
        // read at each use, as the knobs are (a test turns certification on for one run)
        get certify() {
          return env.CERTIFY !== "off";
        },
        f: CLUSTER_F,
      };
      this.core = new DeliveryCore(config, this.book, ownLog(this.store.logs, me));
    }
    return this.core;
  }

  /** One step of the core, committed; its log events printed. */
  step(me: string, input: DeliveryInput): DeliveryEffects {
    const fx = runStep(this.book, () => this.coreOf(me).step(input)).effects;
    for (const e of fx.events) console.log({ event: e.event, replica: me, ...e.fields });
    return fx;
  }

  private stepper(me: string): Step {
    return (input) => this.step(me, input);
  }

  // --- receiver side -----------------------------------------------------------------------

  /** Whether a position of `origin` was handled here already (a re-sent or pulled copy), as of now. */
  seenIn(origin: string): (pos: number | undefined) => boolean {
    return seenIn(this.book, origin);
  }
  /** Record positions handled (inside the apply transaction); returns the new cursor. */
  handled(me: string, origin: string, positions: number[]): number {
    return this.step(me, { kind: "handled", origin, positions }).cursor!;
  }

  // --- origin side -------------------------------------------------------------------------

  /** Confirmations from the queue consumer: `{peer: cursor for this origin}`. */
  confirm(me: string, acks: Record<string, number>): void {
    this.step(me, { kind: "acks", acks });
  }

  /** A peer asks for own ops after its cursor (and so confirms everything ≤ it): the page's wire text. */
  logPage(me: string, requester: string, after: number, limit: number): string {
    const { page } = this.step(me, { kind: "pageRequest", requester, after, limit });
    return this.boundary.servePage(page!.entries, page!.head);
  }

  /** Both versions of an op a client equivocated on, to every peer (durable-objects/outbox.ts). */
  shareEvidence(me: string, entriesJson: string[]): Promise<void> {
    return shareEvidence(this.boundary, me, entriesJson);
  }

  // --- the alarm -----------------------------------------------------------------------------

  /** A local write committed: a drain soon (written under the write's output gate), timers set. */
  written(me: string): Promise<void> {
    return this.clock(me, "written");
  }
  /** An op received from a peer: back to the busy pace at once. */
  wake(me: string): Promise<void> {
    return this.clock(me, "received");
  }
  /** On first contact after start: make sure the periodic tasks have deadlines and the alarm is set. */
  ensureTimers(me: string): Promise<void> {
    return this.clock(me, "contact");
  }
  /** A certified batch was buffered behind a gap below `seq`: the catch-up soon. */
  gapSeen(me: string, seq: number): Promise<void> {
    if (this.env.CERTIFY !== "off") this.certifiedSync.noteGap(seq);
    return this.clock(me, "gap");
  }

  private clock(me: string, kind: "written" | "received" | "contact" | "gap"): Promise<void> {
    return applyAlarm(this.ctx.storage, this.step(me, { kind, nowMs: Date.now() }));
  }

  /** Run every task that is due and re-arm (durable-objects/delivery-clock.ts). */
  alarm(me: string, apply: ApplyEntries): Promise<void> {
    return runAlarm(this.ctx.storage, me, this.stepper(me), (t) => this.run(t, me, apply));
  }

  /** One task: its step, then the I/O it named; true when it stopped at a bound. */
  private async run(t: Task, me: string, apply: ApplyEntries): Promise<boolean> {
    const step = this.stepper(me);
    const fx = step({ kind: "task", task: t, nowMs: Date.now() });
    await sendAll(this.boundary, me, fx.send, step);
    if (fx.submit) return resubmit(this.boundary, fx.submit, step);
    if (fx.pulls.length > 0) return pullAll(this.env, me, this.peers(me), fx.pulls, { step, apply });
    if (fx.collect) {
      const count = collect(this.ctx.storage, this.store, fx.collect);
      return step({ kind: "collected", count, budget: fx.collect.budget }).more;
    }
    if (fx.certifiedSync && this.certified) return this.certifiedRun(me, this.certified, step);
    return fx.more;
  }

  /** Diverged, or behind what every node keeps: a certified state transfer; else a catch-up round. */
  private async certifiedRun(me: string, target: SyncTarget, step: Step): Promise<boolean> {
    const t = this.transferTarget;
    if (t && this.certifiedSync.transferWanted(this.certifiedTransfer.active(), t.diverged(), t.head())) {
      step({ kind: "work" });
      return this.certifiedTransfer.run(me, t);
    }
    // fetching a batch is work (a round that finds the replica current is not)
    const fetched = this.certifiedSync.stats.fetched;
    const more = await this.certifiedSync.round(me, target);
    if (this.certifiedSync.stats.fetched > fetched) step({ kind: "work" });
    return more;
  }

  /** The certify task's pace and counts, and how many own ops wait here uncertified. */
  certifyStatus(me: string | undefined): CertifyStats {
    if (me === undefined) return { ...this.idleCore().certifyStatus(), waiting: 0 };
    return this.coreOf(me).certifyStatus();
  }

  alarmStatus(me: string | undefined): AlarmStats {
    return (me === undefined ? this.idleCore() : this.coreOf(me)).alarmStatus();
  }

  /** Stats of an object no call named yet: a core that never stepped. */
  private idleCore(): DeliveryCore {
    return this.core ?? this.coreOf("");
  }
}
