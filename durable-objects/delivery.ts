/**
 * How an EdgeReplica gets its ops to every other replica, and collects its op log: the tasks of
 * its one alarm (outbox drain, re-send, anti-entropy, log collection) and the RPC answers they rely
 * on. Decisions are pure code in shared/delivery/; this file does the I/O.
 * See docs/architecture.md ("Delivery and anti-entropy", "Collecting the op log").
 *
 * - drain: new own ops (position > sent_pos) go to the replicate queue, the fast path.
 * - confirmations: the queue consumer reports each target's cursor for this origin after the target
 *   applied a message; a peer's anti-entropy pull reports it too. Only confirmed ops are delivered.
 * - resend: own ops sent before the previous resend tick and still unconfirmed by some peer are
 *   sent again, to those peers (receivers dedupe by position and op id).
 * - antiEntropy: every period, ask each peer (direct DO RPC) for its own ops after this replica's
 *   cursor for it, in bounded pages. A lost or duplicated queue message heals at the next pull.
 * - gc: delete op rows that are delivered (and, once it exists, certified) and past the horizon.
 * - certifiedSync: fetch the certified batches this replica misses from a PBFT node
 *   (durable-objects/certified-sync.ts); when it diverged or fell behind what every node keeps,
 *   a certified state transfer instead (durable-objects/certified-transfer.ts).
 */
import type { ReplicaConfig } from "../shared/config.js";
import { handle, isHandled } from "../shared/delivery/origin-cursor.js";
import { DEDUPE_HORIZON_MS_DEFAULT, gcBounds } from "../shared/delivery/op-gc.js";
import { resendPlan } from "../shared/delivery/resend.js";
import {
  fullPace,
  nextPace,
  nodesBusy,
  paceAllows,
  type CertifyPace,
  type PaceBounds,
} from "../shared/delivery/certify-pace.js";
import { CLUSTER_F } from "../shared/cluster-config.js";
import { idleGraceMs, idlePeriods, nextIdleLevel, wakeDeadlines } from "../shared/delivery/idle-backoff.js";
import {
  afterRun,
  dueTasks,
  nextAlarm,
  periodsFrom,
  withPeriodic,
  type Periods,
  type Task,
} from "../shared/delivery/timers.js";
import { packMessages, parseLogPage, type ReplicateMessage } from "../shared/replication.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import type { Env } from "../platform/env.js";
import { replicaStub } from "../platform/replica-stub.js";
import type { ReplicaBoundary } from "../platform/replica-boundary.js";
import { replicasOf } from "../platform/routing.js";
import { CertifiedSync, clusterNodes, type SyncTarget } from "./certified-sync.js";
import { CertifiedTransfer, transferNodes, type TransferTarget } from "./certified-transfer.js";
import type { AlarmStats, CertifyStats } from "../shared/rpc/replica-stats.js";
import { DeliveryStore } from "./delivery-store.js";
import type { ReplicaStore } from "./replica-store.js";

/** Own ops per drain (the rest in the next run, at once). */
export const OUTBOX_DRAIN_MAX = 2000;
/** Own ops per re-send tick. */
export const RESEND_MAX = 2000;
/** Ops per anti-entropy page, and pages per peer per alarm run (then the next run, at once). */
export const ANTI_ENTROPY_PAGE_MAX = 500;
export const ANTI_ENTROPY_PAGES_MAX = 4;
/** Own uncertified ops submitted again per certify run (then the next run, at once). */
export const CERTIFY_RESUBMIT_MAX = 500;
/** The certify task's pacing bounds: halve down to 25 ops a run, wait up to 30 s more between runs. */
export const CERTIFY_PACE: PaceBounds = {
  limitMax: CERTIFY_RESUBMIT_MAX,
  limitMin: 25,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
};
/** How long an acknowledged op may stay uncertified before its origin submits it again (ms). */
export const certifyAfterMs = (env: Env): number => Math.max(2_000, 2 * periodsOf(env).antiEntropy);
/** Op rows deleted per gc run (then the next run, at once). */
export const GC_BATCH_MAX = 1000;
const envMs = (v: string | undefined, fallback: number, max: number): number => {
  const ms = Number(v);
  return v !== undefined && v !== "" && Number.isFinite(ms) && ms >= 0 ? Math.min(ms, max) : fallback;
};
/** Batching window of the outbox drain (DRAIN_DELAY_MS, default 20). */
export const drainDelayMs = (env: Env): number => envMs(env.DRAIN_DELAY_MS, 20, 10_000);
/** The anti-entropy period (ANTI_ENTROPY_MS, default 1000); re-send every 3, gc every 5 periods. */
export const periodsOf = (env: Env): Periods =>
  periodsFrom(Math.max(10, envMs(env.ANTI_ENTROPY_MS, 1000, 24 * 3600_000)));
/** DEDUPE_HORIZON_MS (default twice the accepted client clock skew). */
export const horizonMs = (env: Env): number =>
  envMs(env.DEDUPE_HORIZON_MS, DEDUPE_HORIZON_MS_DEFAULT, 365 * 24 * 3600_000);

/** Applies entries from `origin`, parsed from peer text (the replica's own apply path), and reports each position. */
export type ApplyEntries = (
  origin: string,
  entries: readonly unknown[],
) => Promise<{ cursor: number; applied: number }>;

/** How long one alarm task may hold the alarm (each peer call inside has its own, shorter deadline). */
export const ALARM_TASK_DEADLINE_MS = 20_000;

/** How soon after a batch was buffered behind a gap the certified catch-up runs (ms, at most). */
export const GAP_SYNC_DELAY_MS = 500;

export class Delivery {
  readonly book: DeliveryStore;
  readonly certifiedSync: CertifiedSync;
  readonly certifiedTransfer: CertifiedTransfer;
  private drainScheduled = false;
  private timersChecked = false;
  /** The certify task's pace (in memory: a new instance starts at full pace, the nodes pace it again). */
  private pace: CertifyPace = fullPace(CERTIFY_PACE);
  private readonly certifyStats = { resubmitted: 0, busy: 0, deferred: 0 };
  /** Alarm runs of this instance and the last one's time (`stats().alarms`: what idling costs). */
  private readonly alarmStats = { runs: 0, lastAt: null as number | null };
  /** The idle level (meta `idle_level`, so an evicted idle replica stays backed off), cached. */
  private level: number | undefined;
  /** Set by a task of the current alarm run that found something to do (resets the idle level). */
  private workFound = false;

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
    return this.boundary.servePage(this.store.logPage(me, from, n), this.store.ownHead());
  }

  // --- the alarm -----------------------------------------------------------------------------

  /**
   * Ask for a drain `DRAIN_DELAY_MS` from now unless one is already due. Deadline and alarm are
   * written under the same output gate as the write, so a replica evicted right after replying
   * still drains when it comes back.
   */
  async scheduleDrain(): Promise<void> {
    await this.wake();
    if (this.drainScheduled) return;
    const d = this.book.deadlines();
    const at = Date.now() + drainDelayMs(this.env);
    if (d.drain === undefined || d.drain > at) this.book.putDeadlines({ ...d, drain: (d.drain = at) });
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > d.drain) await this.ctx.storage.setAlarm(d.drain);
    this.drainScheduled = true;
  }

  /**
   * A certified batch was buffered: a gap opened below `seq`. Run the catch-up soon (not at once:
   * the queue usually brings the missing seq within milliseconds).
   */
  async gapSeen(seq: number): Promise<void> {
    if (this.env.CERTIFY === "off") return;
    this.certifiedSync.noteGap(seq);
    const d = this.book.deadlines();
    const at = Date.now() + Math.min(GAP_SYNC_DELAY_MS, periodsOf(this.env).certifiedSync);
    if (d.certifiedSync !== undefined && d.certifiedSync <= at) return;
    this.book.putDeadlines({ ...d, certifiedSync: at });
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Traffic (a local write, an op received from a peer): back to the busy pace at once, with every
   * periodic deadline within one base period. Nothing to do (no write) while already busy.
   */
  async wake(): Promise<void> {
    if (this.idleLevel() === 0) return;
    this.setIdleLevel(0);
    const d = wakeDeadlines(this.book.deadlines(), Date.now(), periodsOf(this.env));
    this.book.putDeadlines(d);
    const at = nextAlarm(d)!;
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > at) await this.ctx.storage.setAlarm(at);
  }

  private idleLevel(): number {
    if (this.level === undefined) {
      const v = Number(this.store.getMeta("idle_level") ?? "0");
      this.level = Number.isSafeInteger(v) && v >= 0 ? v : 0;
    }
    return this.level;
  }

  private setIdleLevel(level: number): void {
    if (level === this.idleLevel()) return;
    this.store.setMeta("idle_level", String(level));
    this.level = level;
  }

  /** On first contact after start: make sure the periodic tasks have deadlines and the alarm is set. */
  async ensureTimers(): Promise<void> {
    if (this.timersChecked) return;
    const d = withPeriodic(this.book.deadlines(), Date.now(), periodsOf(this.env));
    this.book.putDeadlines(d);
    const at = nextAlarm(d)!;
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > at) await this.ctx.storage.setAlarm(at);
    this.timersChecked = true;
  }

  /**
   * Run every task that is due; re-arm; set the alarm to the earliest deadline. Idempotent. Each
   * task is independent: one that throws or passes ALARM_TASK_DEADLINE_MS (a peer that never
   * answers) is logged and retried later by this same alarm, the others still run, and the alarm is
   * re-armed in `finally` (a thrown alarm would leave the retry to the platform's backoff).
   */
  async alarm(me: string, apply: ApplyEntries): Promise<void> {
    const base = periodsOf(this.env);
    const level = this.idleLevel();
    const periods = idlePeriods(base, level);
    const start = Date.now();
    this.alarmStats.runs++;
    this.alarmStats.lastAt = start;
    // idle: tasks due within the grace run now with the others (one run per period, not per task)
    const due = dueTasks(
      withPeriodic(this.book.deadlines(), start, periods),
      start + idleGraceMs(base, level),
    );
    this.workFound = false;
    const more: Task[] = [];
    const failed: Task[] = [...due];
    try {
      for (const t of due) {
        if (t === "drain") this.drainScheduled = false;
        try {
          if (await withDeadline(this.run(t, me, apply), ALARM_TASK_DEADLINE_MS, `alarm task ${t}`))
            more.push(t);
          failed.splice(failed.indexOf(t), 1);
        } catch (e) {
          console.error({ event: "alarm_task_failed", replica: me, task: t, error: String(e) });
        }
      }
      if (due.includes("drain") && !failed.includes("drain") && this.store.ownHead() > this.sentPos())
        more.push("drain");
    } finally {
      const now = Date.now();
      // a write during the awaits may have woken the replica (level 0) meanwhile: it wins
      const ranPeriodic = due.some((t) => t !== "drain");
      const next =
        this.idleLevel() < level ? 0 : nextIdleLevel(level, { ranPeriodic, foundWork: this.workFound }, base);
      this.setIdleLevel(next);
      const after = idlePeriods(base, next);
      // re-read: a write during the awaits may have set a drain deadline
      const d = afterRun(withPeriodic(this.book.deadlines(), now, after), due, now, after, more, failed);
      this.book.putDeadlines(d);
      await this.ctx.storage.setAlarm(nextAlarm(d)!);
      this.timersChecked = true;
    }
  }

  /** One task; true when it stopped at a bound and has more to do at once. */
  private async run(t: Task, me: string, apply: ApplyEntries): Promise<boolean> {
    switch (t) {
      case "drain":
        return this.drain(me);
      case "resend":
        return this.resend(me);
      case "antiEntropy":
        return this.antiEntropy(me, apply);
      case "gc":
        return this.gc(me);
      case "certify":
        return this.certify(me);
      case "certifiedSync":
        if (this.env.CERTIFY === "off" || !this.certified) return false;
        // diverged, or behind what every node keeps: recover by certified state transfer
        if (this.transferTarget && this.transferWanted(this.transferTarget)) {
          this.workFound = true;
          return this.certifiedTransfer.run(me, this.transferTarget);
        }
        return this.certifiedRound(me, this.certified);
    }
  }

  /** A catch-up round; fetching a batch is work (a round that finds the replica current is not). */
  private async certifiedRound(me: string, target: SyncTarget): Promise<boolean> {
    const fetched = this.certifiedSync.stats.fetched;
    const more = await this.certifiedSync.round(me, target);
    if (this.certifiedSync.stats.fetched > fetched) this.workFound = true;
    return more;
  }

  private transferWanted(t: TransferTarget): boolean {
    return this.certifiedSync.transferWanted(this.certifiedTransfer.active(), t.diverged(), t.head());
  }

  private sentPos(): number {
    return Number(this.store.getMeta("sent_pos") ?? "0");
  }

  /** New own ops → the queue (fast path). At least once: a crash after send re-sends. */
  private async drain(me: string): Promise<boolean> {
    const sent = this.sentPos();
    const rows = this.store.logPage(me, sent, OUTBOX_DRAIN_MAX);
    if (rows.length === 0) return false;
    this.workFound = true;
    await this.send(packMessages(me, rows));
    this.store.setMeta("sent_pos", String(sent + rows.length));
    return rows.length === OUTBOX_DRAIN_MAX;
  }

  private async resend(me: string): Promise<boolean> {
    const plan = resendPlan({
      peers: this.peers(me).map((p) => p.name),
      acks: this.book.acks(),
      sentAtLastTick: Number(this.store.getMeta("resend_mark") ?? "0"),
      limit: RESEND_MAX,
    });
    if (plan) {
      this.workFound = true;
      const rows = this.store.logPage(me, plan.after, RESEND_MAX, plan.through);
      console.log({
        event: "resend",
        replica: me,
        after: plan.after,
        through: plan.through,
        targets: plan.targets,
      });
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

  /** Pull each peer's own ops after my cursor for it, in bounded pages. */
  private async antiEntropy(me: string, apply: ApplyEntries): Promise<boolean> {
    let more = false;
    await Promise.all(
      this.peers(me).map(async (peer) => {
        try {
          const started = Date.now();
          for (let page = 0; page < ANTI_ENTROPY_PAGES_MAX; page++) {
            const cursor = this.book.cursor(peer.name).cursor;
            const text = await withDeadline(
              replicaStub(this.env, peer).opsSince(peer.name, me, cursor, ANTI_ENTROPY_PAGE_MAX),
              PEER_DEADLINE_MS.replicaSmall,
              `opsSince at ${peer.name}`,
            );
            const page = parseLogPage(text);
            if (!page.ok) {
              console.log({
                event: "anti_entropy_malformed",
                replica: me,
                peer: peer.name,
                reason: page.reason,
              });
              return;
            }
            const got = page.value;
            // the peer's head is past our cursor: it has ops for us (traffic)
            if (got.head > cursor) this.workFound = true;
            let after = cursor;
            if (got.entries.length > 0) {
              const r = await apply(peer.name, got.entries);
              after = r.cursor;
              // ops the queue had not brought: what anti-entropy repaired
              if (r.applied > 0)
                console.log({
                  event: "anti_entropy_applied",
                  replica: me,
                  origin: peer.name,
                  applied: r.applied,
                });
            }
            if (after >= got.head) {
              const c = this.book.cursor(peer.name);
              this.book.putCursor(peer.name, { ...c, syncedAt: Math.max(c.syncedAt, started) });
              return;
            }
            if (after === cursor && got.entries.length === 0) return; // nothing served (hostile or collected)
          }
          more = true;
        } catch (e) {
          console.log({ event: "anti_entropy_failed", replica: me, peer: peer.name, error: String(e) });
        }
      }),
    );
    return more;
  }

  /**
   * Own ops acknowledged here and still not certified `certifyAfterMs` after their ts go to every
   * PBFT node again (a lost queue message delays certification, never loses an op; the nodes
   * dedupe, and an op certified once is never certified again). Paced: when f + 1 nodes answer that
   * their pool is full, the next run waits longer and sends fewer (shared/delivery/certify-pace.ts);
   * the ops wait in the op log meanwhile.
   */
  private async certify(me: string): Promise<boolean> {
    if (this.env.CERTIFY === "off") return false;
    if (!paceAllows(this.pace, Date.now())) {
      this.certifyStats.deferred++;
      return false;
    }
    const limit = this.pace.limit;
    const ops = this.store.uncertifiedOwnOps(me, Date.now() - certifyAfterMs(this.env), limit);
    if (ops.length === 0) {
      // own ops waiting for their certificate, none due for a resubmission yet: not idle (backing
      // off now would put their resubmission a whole backed-off period later, tens of seconds)
      if (this.store.uncertifiedOwnCount(me) > 0) this.workFound = true;
      return false;
    }
    this.workFound = true;
    const took = await this.boundary.submitToNodes(ops);
    // none asked (the boundary sent nothing): the ops wait for the next run, at its usual period
    if (took.length === 0) return false;
    const answers = took.flatMap((t) => (t.status === "fulfilled" ? [t.value] : []));
    const busy = nodesBusy(answers, CLUSTER_F);
    this.pace = nextPace(this.pace, busy, Date.now(), CERTIFY_PACE);
    this.certifyStats.resubmitted += ops.length;
    if (busy) this.certifyStats.busy++;
    console.log({
      event: "certify_resubmit",
      replica: me,
      ops: ops.length,
      nodesTook: answers.length,
      busy,
      nextLimit: this.pace.limit,
      backoffMs: this.pace.backoffMs,
    });
    return !busy && ops.length === limit;
  }

  /** The certify task's pace and counts, and how many own ops wait here uncertified. */
  certifyStatus(me: string | undefined): CertifyStats {
    return {
      ...this.certifyStats,
      limit: this.pace.limit,
      backoffMs: this.pace.backoffMs,
      waiting: me === undefined ? 0 : this.store.uncertifiedOwnCount(me),
    };
  }

  alarmStatus(): AlarmStats {
    const level = this.idleLevel();
    return {
      ...this.alarmStats,
      idleLevel: level,
      antiEntropyMs: idlePeriods(periodsOf(this.env), level).antiEntropy,
    };
  }

  private async gc(me: string): Promise<boolean> {
    const peers = this.peers(me).map((p) => p.name);
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
      left -= this.ctx.storage.transactionSync(() =>
        this.store.collectOps(b.origin, b.posMax, b.tsBefore, b.certifiedOnly, left),
      );
    }
    if (left < GC_BATCH_MAX) console.log({ event: "gc", replica: me, collected: GC_BATCH_MAX - left });
    return left <= 0;
  }
}
