/**
 * A simulated replica's delivery: the PRODUCT's delivery core (shared/delivery/core.ts) over its
 * memory state (shared/delivery/memory-state.ts), each step run through the hosts' one step shape
 * (shared/host/step.ts), as durable-objects/delivery.ts runs it over SQLite. The core decides
 * everything — the alarm's deadlines and idle level, drain, re-sends and their targets, the pages a
 * peer pulls, confirmations, anti-entropy pulls and their next pages, resubmission to the nodes and
 * its pace, op-log collection bounds. This file is the host's side only: the alarm's time, what
 * the effects name done over the simulated channels, and the planted loss of an own op.
 *
 * Durable across a crash (SQLite in the product): the state, the own log, the alarm time. Lost:
 * the core's memory (pace, counts, whether a drain is scheduled), pulls awaiting their page.
 */
import { DeliveryCore, type DeliveryConfig } from "../../../shared/delivery/core.js";
import type { DeliveryEffects, DeliveryInput, Pull, PullAnswer } from "../../../shared/delivery/effects.js";
import { MemoryDeliveryState } from "../../../shared/delivery/memory-state.js";
import type { OwnLog } from "../../../shared/delivery/state.js";
import type { Task } from "../../../shared/delivery/timers.js";
import { runStep } from "../../../shared/host/step.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import type { ReplicatedOp } from "../../../shared/replication.js";
import type { SimReplicaStore } from "./replica-store.js";

/** The product's knobs, scaled to the simulator's ticks (10 ms): anti-entropy every 20 ticks. */
export const SIM_KNOBS = { ANTI_ENTROPY_MS: "200", DRAIN_DELAY_MS: "20" };
/** Idle periods capped at 1.6 s (the product: 60 s), so a quiet replica still settles in the bound. */
const SIM_IDLE_CAP_MS = 1_600;

/** The I/O the core's effects name, over the simulator's channels. */
export interface DeliveryIo {
  /** Own entries (lost ones already left out) to `to`, as a queue message or a page with the head. */
  sendEntries(to: string, entries: ReplicatedOp[], via: "queue" | "page", head: number): void;
  /** Ask `pull.peer` for its own ops after `pull.after`. */
  pull(pull: Pull): void;
  /** Own ops to the nodes again (the certify task). */
  submit(ops: readonly SignedOp[]): Promise<void>;
  /** Fetch the certified batches this replica misses (the certifiedSync task). */
  catchUp(): void;
  /** Delete op rows the bounds allow, at most `budget`: how many. */
  collect(fx: NonNullable<DeliveryEffects["collect"]>): number;
  log(line: string): void;
}

/** The simulated store's own log as the core reads it. */
function ownLogOf(store: SimReplicaStore): OwnLog {
  return {
    head: () => store.ownHead(),
    page: (after, limit, through = Number.MAX_SAFE_INTEGER) =>
      store.ownEntries(after, Math.min(through, store.ownHead()), limit).map((e) => JSON.stringify(e)),
    uncertified: (tsBefore, limit) =>
      store
        .uncertifiedOwn()
        .filter((x) => x.op.ts < tsBefore)
        .slice(0, limit)
        .map((x) => x.op),
    uncertifiedCount: () => store.uncertifiedOwn().length,
  };
}

export class SimDelivery {
  readonly state = new MemoryDeliveryState();
  private core: DeliveryCore;
  private readonly config: DeliveryConfig;
  /** The one alarm (durable, as a DO's alarm is): null while none is set. */
  alarmAt: number | null = null;
  /** Own ops planted as lost (test-only, a hook of the simulator): never sent, served or submitted. */
  readonly lost = new Set<number>();
  readonly lostOps = new Set<string>();
  /** Pulls awaiting their page, per peer (in memory). */
  private readonly pending = new Map<string, Pull>();

  constructor(
    private readonly store: SimReplicaStore,
    me: string,
    peers: readonly string[],
    private readonly io: DeliveryIo,
  ) {
    this.config = { me, peers, knobs: SIM_KNOBS, certify: true, f: 1, idleCapMs: SIM_IDLE_CAP_MS };
    this.core = new DeliveryCore(this.config, this.state, ownLogOf(store));
  }

  /** A restart: a new core over the same state (what it kept in memory is gone). */
  restart(): void {
    this.core = new DeliveryCore(this.config, this.state, ownLogOf(this.store));
    this.pending.clear();
  }

  /** One step, committed through the hosts' step shape; the alarm it names taken; events logged. */
  step(input: DeliveryInput): DeliveryEffects {
    const fx = runStep(this.state, () => this.core.step(input), { input }).effects;
    this.takeAlarm(fx);
    for (const e of fx.events) this.io.log(`${this.config.me} ${e.event} ${JSON.stringify(e.fields)}`);
    return fx;
  }

  /** A step inside a transaction the caller holds (the apply path's): no commit of its own. */
  stepInside(input: DeliveryInput): DeliveryEffects {
    const fx = this.core.step(input);
    this.takeAlarm(fx);
    return fx;
  }

  seenIn(origin: string): (pos: number | undefined) => boolean {
    return this.core.seenIn(origin);
  }

  private takeAlarm(fx: DeliveryEffects): void {
    if (fx.alarmAt !== null) this.alarmAt = fx.alarmAt;
    if (fx.alarmBy !== null && (this.alarmAt === null || this.alarmAt > fx.alarmBy))
      this.alarmAt = fx.alarmBy;
  }

  /** The own entries of texts the core picked, less the planted lost ones. */
  private told(texts: readonly string[]): ReplicatedOp[] {
    return texts.map((t) => JSON.parse(t) as ReplicatedOp).filter((e) => !this.lost.has(e.pos!));
  }

  /** A peer's pull: the page the core serves, back to it. */
  onPull(from: string, after: number, limit: number): void {
    const { page } = this.step({ kind: "pageRequest", requester: from, after, limit });
    const entries = this.told(page!.entries);
    if (entries.length) this.io.sendEntries(from, entries, "page", page!.head);
  }

  /** A page from `peer` arrived (parsed, applied): the core decides the next pull. */
  onPage(peer: string, answer: PullAnswer): void {
    const pull = this.pending.get(peer);
    if (!pull) return;
    this.pending.delete(peer);
    for (const next of this.step({ kind: "pulled", pull, answer }).pulls) this.startPull(next);
  }

  private startPull(p: Pull): void {
    this.pending.set(p.peer, p);
    this.io.pull(p);
  }

  /** The alarm, if due at `nowMs`: every due task, then re-armed (as durable-objects/delivery-clock.ts). */
  async alarm(nowMs: number): Promise<void> {
    if (this.alarmAt === null || this.alarmAt > nowMs) return;
    this.alarmAt = null;
    const { due } = this.step({ kind: "alarm", nowMs });
    const more: Task[] = [];
    for (const t of due) if (await this.run(t, nowMs)) more.push(t);
    this.step({ kind: "alarmDone", nowMs, more, failed: [] });
  }

  private async run(t: Task, nowMs: number): Promise<boolean> {
    const fx = this.step({ kind: "task", task: t, nowMs });
    for (const s of fx.send) {
      const entries = this.told(s.entries);
      if (entries.length)
        for (const to of s.targets ?? this.config.peers) this.io.sendEntries(to, entries, "queue", 0);
      this.step({ kind: "sent", send: s });
    }
    if (fx.submit) {
      await this.io.submit(fx.submit.ops.filter((op) => !this.lostOps.has(opIdOf(op))));
      const { limit } = fx.submit;
      return this.step({ kind: "nodesAnswered", nowMs, submitted: fx.submit.ops.length, limit, answers: [] })
        .more;
    }
    for (const p of fx.pulls) this.startPull(p);
    if (fx.collect) {
      const count = this.io.collect(fx.collect);
      return this.step({ kind: "collected", count, budget: fx.collect.budget }).more;
    }
    if (fx.certifiedSync) this.io.catchUp();
    return fx.more;
  }
}
