/**
 * One simulated EC replica: the product's replica core (shared/replica/: `submitOp`,
 * `screenEntries` / `applyEntries`) over its store, the product's certified follower
 * (shared/follower/) over a `MemoryFollowerStore`, and the product's delivery core
 * (shared/delivery/core.ts, through origin-delivery.ts) over its memory state, stepped as the
 * EdgeReplica shell steps them (signatures verified between screen and apply, each step in one
 * transaction, the cursor moved inside the apply's).
 *
 * What is the product's and what is MODELLED here:
 * - the product's: admission, apply, equivocation, HLC (the core); batch ordering, buffering, root
 *   check (the follower); the tentative rebase `rebaseRecord`; all of delivery — the alarm and
 *   which tasks are due, the idle level, drain, re-send, confirmations, pages served, anti-entropy
 *   pulls and their pages, cursors, resubmission and its pace, op-log collection bounds.
 * - modelled after durable-objects/edge-replica.ts: marking the op log certified and rebasing the
 *   keys a certified batch touched (here); a pull is a message and its page the answer (the
 *   product's is one RPC); a catch-up asks a random node (world.ts).
 *   Not modelled: evidence sharing between replicas, certified state transfer, the nodes' busy
 *   answers (every resubmission is answered "not busy"). Replies to reading clients: replies.ts.
 *
 * Durable across a crash (SQLite in the product): both stores, the delivery state, the alarm time.
 * Lost: the follower's caches (a new `Follower` reads its store again), the clock in memory (read
 * back from the store), the delivery core's memory, messages that reach it while down.
 */
import { Follower } from "../../../shared/follower/follower.js";
import { MemoryFollowerStore } from "../../../shared/follower/memory-store.js";
import type { CertOutcome } from "../../../shared/follower/types.js";
import type { Hlc } from "../../../shared/hlc.js";
import { sameContent } from "../../../shared/equivocation.js";
import { rebaseRecord } from "../../../shared/materialize.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import { applyEntries, screenEntries } from "../../../shared/replica/apply.js";
import { applyEntryEffect } from "../../../shared/replica/apply-effect.js";
import { submitOp, type SubmitResult } from "../../../shared/replica/submit.js";
import type { GcBound } from "../../../shared/delivery/op-gc.js";
import { runStep } from "../../../shared/host/step.js";
import type { ReplicatedOp } from "../../../shared/replication.js";
import type { SimCrypto } from "./crypto.js";
import { entriesText, type EntriesVia, type ReplicaMessage } from "./messages.js";
import type { Parsers } from "./boundary-tricks.js";
import { SimDelivery } from "./origin-delivery.js";
import { SimReplicaStore } from "./replica-store.js";

/** What a replica asks of the world around it. */
export interface ReplicaHost {
  readonly crypto: SimCrypto;
  readonly replicaCount: number;
  nowMs(replica: number): number;
  send(from: number, to: number, m: ReplicaMessage): void;
  /** Own ops to the PBFT nodes: `first` is the queue consumer's submission (lossy), else the certify task's. */
  submitToNodes(ops: readonly SignedOp[], first: boolean): Promise<void>;
  /** Ask a node for the certified batches after `head` (the answer comes on the certificates channel). */
  catchUp(replica: number, head: number): void;
  log(line: string): void;
  /** What a replica's entries become on their way out: a Byzantine replica's lies (lying-replica.ts), else themselves. */
  lieInEntries(from: number, entries: ReplicatedOp[]): ReplicatedOp[];
  /** The product's parsers of peer text (a plant may swap in a lax one). */
  readonly parsers: Parsers;
  /** Does this replica die inside the step it is taking (its transaction rolled back, then down)? */
  crashesMidStep(replica: number, step: "entries" | "certified"): boolean;
  /** Take this replica down now (it restarts later). */
  crashNow(replica: number): void;
}

/** Planted bugs (test-only): the checks must catch each. */
export interface Plants {
  /** Apply one remote counter effect a second time. */
  doubleApply?: boolean;
  /** Acknowledge one own op, then never send it or submit it anywhere. */
  loseOwnOp?: boolean;
}

export class SimReplica {
  readonly name: string;
  readonly store: SimReplicaStore;
  readonly fstore = new MemoryFollowerStore();
  follower: Follower | null;
  hlc: Hlc;
  restartAt: number | null = null;
  readonly outcomes: Partial<Record<CertOutcome, number>> = {};
  readonly delivery: SimDelivery;

  constructor(
    readonly id: number,
    private readonly host: ReplicaHost,
    readonly plants: Plants = {},
  ) {
    this.name = `r${id}`;
    this.store = new SimReplicaStore(this.name);
    this.follower = new Follower(this.fstore);
    this.hlc = this.store.clock();
    const peers = this.peers.map((p) => `r${p}`);
    this.delivery = new SimDelivery(this.store, this.name, peers, {
      sendEntries: (to, entries, via, head) => this.sendEntries(Number(to.slice(1)), entries, via, head),
      pull: (p) =>
        this.host.send(this.id, Number(p.peer.slice(1)), {
          kind: "pull",
          from: this.id,
          after: p.after,
          limit: p.limit,
        }),
      submit: (ops) => this.host.submitToNodes(ops, false),
      catchUp: () => this.host.catchUp(this.id, this.follower!.head().seq),
      collect: (c) => this.collect(c),
      log: (line) => this.host.log(line),
    });
  }

  /** Op ids planted as lost (test-only). */
  get lostOps(): ReadonlySet<string> {
    return this.delivery.lostOps;
  }

  get up(): boolean {
    return this.follower !== null;
  }

  private get peers(): number[] {
    return [...Array(this.host.replicaCount).keys()].filter((i) => i !== this.id);
  }

  private readonly isCertified = (op: SignedOp): boolean => this.follower!.isCertified(op);

  // ---------------------------------------------------------------- client writes

  /** A client's op (POST /v1/ops). `crashBeforeCommit`: the host dies inside the step's transaction. */
  async submit(op: SignedOp, crashBeforeCommit = false): Promise<SubmitResult | { kind: "down" }> {
    if (!this.follower) return { kind: "down" };
    if (!(await this.host.crypto.verifyOp(op)))
      throw new Error(`sim: a client op's signature failed at ${this.name}`);
    const nowMs = this.host.nowMs(this.id);
    const step = () =>
      submitOp(this.store, { op, me: this.name, nowMs, hlc: this.hlc, isCertified: this.isCertified });
    if (crashBeforeCommit) {
      try {
        runStep(this.store, () => {
          step();
          throw new Error("power cut");
        });
      } catch {
        // rolled back: nothing of the step is stored, no reply was sent
      }
      return { kind: "down" };
    }
    const r = runStep(this.store, step).effects;
    if (r.kind !== "accepted") return r;
    this.hlc = r.hlc;
    if (r.outcome.duplicate) return r;
    // persist (above), then schedule the drain (the queue's fast path to every peer)
    this.delivery.step({ kind: "written", nowMs });
    if (this.plants.loseOwnOp) {
      this.plants.loseOwnOp = false;
      this.delivery.lost.add(this.store.ownHead());
      this.delivery.lostOps.add(opIdOf(op));
      this.host.log(`${this.name} PLANTED: lost own op ${opIdOf(op)}`);
      return r;
    }
    // the queue consumer's submission to the nodes
    await this.host.submitToNodes([op], true);
    return r;
  }

  private sendEntries(to: number, entries: ReplicatedOp[], via: EntriesVia, head: number): void {
    const told = this.host.lieInEntries(this.id, entries);
    const text = entriesText(this.id, via, told, head);
    this.host.send(this.id, to, { kind: "entries", origin: this.id, via, text });
  }

  // ---------------------------------------------------------------- peers

  async receive(m: ReplicaMessage): Promise<void> {
    if (!this.follower) return;
    this.delivery.step({ kind: "contact", nowMs: this.host.nowMs(this.id) });
    if (m.kind === "ack") this.delivery.step({ kind: "acks", acks: { [`r${m.from}`]: m.cursor } });
    else if (m.kind === "pull") this.delivery.onPull(`r${m.from}`, m.after, m.limit);
    else {
      // the product's parser of a queue message or a page; what it refuses is dropped (no confirmation)
      const page = m.via === "page";
      const parsed = this.host.parsers[page ? "log-page" : "replicate"](m.text);
      if (!parsed.ok) {
        if (page) this.delivery.onPage(`r${m.origin}`, { ok: false, reason: parsed.reason });
        return;
      }
      const { entries, head } = parsed.value as { entries: unknown[]; head?: number };
      const applied = await this.applyFrom(m.origin, entries);
      if (page && applied !== null)
        this.delivery.onPage(`r${m.origin}`, { ok: true, head: head ?? 0, served: entries.length, applied });
    }
  }

  /**
   * A peer's entries, as `EdgeReplica.applyEntries` steps them: screen, verify, apply and move the
   * cursor in one transaction, confirm. How many were applied (null: the replica died in the step).
   */
  private async applyFrom(origin: number, raw: readonly unknown[]): Promise<number | null> {
    const from = `r${origin}`;
    const seen = this.delivery.seenIn(from);
    const screened = screenEntries(this.store, from, raw, seen);
    const verified = await Promise.all(screened.fresh.map((e) => this.host.crypto.verifyOp(e.op)));
    const nowMs = this.host.nowMs(this.id);
    const cut = this.host.crashesMidStep(this.id, "entries");
    const r = this.cutOr(cut, false, () => {
      const r = applyEntries(this.store, {
        origin: from,
        screened,
        verified,
        nowMs,
        hlc: this.hlc,
        isCertified: this.isCertified,
        certifiedRecord: (key) => this.follower!.record(key),
        // a snapshot of the cursor taken again, as the shell does
        seen: this.delivery.seenIn(from),
      });
      if (this.plants.doubleApply) this.plantDoubleApply(screened.fresh);
      const { cursor } = this.delivery.stepInside({ kind: "handled", origin: from, positions: r.handled });
      return { ...r, cursor: cursor! };
    });
    if (!r) return null;
    this.hlc = r.hlc;
    if (r.counts.applied > 0) this.delivery.step({ kind: "received", nowMs });
    this.host.send(this.id, origin, { kind: "ack", from: this.id, cursor: r.cursor });
    return r.counts.applied;
  }

  /** The op rows the delivery core's bounds allow, deleted (one transaction per bound, as the shell). */
  private collect(c: { bounds: readonly GcBound[]; budget: number }): number {
    let left = c.budget;
    for (const b of c.bounds) {
      if (left <= 0) break;
      left -= this.store.transaction(() =>
        this.store.collectOps(b.origin, b.posMax, b.tsBefore, b.certifiedOnly, left),
      );
    }
    return c.budget - left;
  }

  private plantDoubleApply(fresh: readonly { op: SignedOp; effect: unknown }[]): void {
    const e = fresh.find(
      (x) =>
        x.op.type === "counter" &&
        x.effect !== null &&
        this.store.hasOp(opIdOf(x.op)) &&
        !this.store.isOpCertified(opIdOf(x.op)),
    );
    if (!e) return;
    this.plants.doubleApply = false;
    applyEntryEffect(this.store, e as Parameters<typeof applyEntryEffect>[1]);
    this.host.log(`${this.name} PLANTED: applied ${opIdOf(e.op)} twice`);
  }

  // ---------------------------------------------------------------- certified batches

  /** A certified batch's text from a node (posted, a fallback post, or a catch-up answer). */
  async receiveCertified(text: unknown): Promise<void> {
    const follower = this.follower;
    if (!follower) return;
    const s = follower.screen(text);
    if (s.kind === "drop") return this.count(s.effects.report.outcome);
    const verdict = await this.host.crypto.verifyCertificate(s.batch.certificate);
    const cut = this.host.crashesMidStep(this.id, "certified");
    const fx = this.cutOr(cut, true, () => {
      const fx = follower.onBatch(s.batch, verdict);
      for (const ops of fx.certified) this.markCertified(follower, ops);
      return fx;
    });
    if (!fx) return;
    this.count(fx.report.outcome);
    if (fx.report.applied > 0) this.host.log(`${this.name} certified -> seq ${fx.report.head}`);
  }

  private count(o: CertOutcome): void {
    this.outcomes[o] = (this.outcomes[o] ?? 0) + 1;
  }

  /** As EdgeReplica's `markCertified` sink: mark the op log, rebase every key the batch touched. */
  private markCertified(follower: Follower, ops: readonly SignedOp[]): void {
    const keys = new Set<string>();
    for (const op of ops) {
      const held = this.store.markCertified(op);
      if (held !== undefined) keys.add(held);
      keys.add(op.key);
    }
    // tentative = certified + the ops not certified yet (docs/architecture.md, "Tentative state")
    for (const key of keys) {
      const rec = rebaseRecord(follower.record(key), this.store.pendingEffects(key));
      if (rec) this.store.putRecord(key, rec);
      else this.store.deleteRecord(key);
    }
  }

  // ---------------------------------------------------------------- the alarm's tasks

  /** The replica's one alarm, if due (its tasks, their deadlines and idle level: the delivery core's). */
  async timers(): Promise<void> {
    if (!this.follower) return;
    const nowMs = this.host.nowMs(this.id);
    this.delivery.step({ kind: "contact", nowMs });
    await this.delivery.alarm(nowMs);
  }

  // ---------------------------------------------------------------- crashes

  /**
   * The step in one transaction (of both stores when it writes the follower's: `follower`); `cut`:
   * the power fails after its writes, before the commit — nothing of it stays, nothing is sent, and
   * the host takes the replica down (null).
   */
  private cutOr<T>(cut: boolean, follower: boolean, step: () => T): T | null {
    const body = (): T => {
      const out = step();
      if (cut) throw new Error("power cut");
      return out;
    };
    try {
      // only a cut throws, so only a cut step needs the follower's store in the transaction too
      // the delivery state too: the apply step moves the cursor in the same transaction
      const inner = () => this.delivery.state.transaction(body);
      const both = {
        transaction: <T>(b: () => T) => this.store.transaction(() => this.fstore.transaction(b)),
      };
      return runStep(follower && cut ? both : this.store, inner).effects;
    } catch (e) {
      if (!cut) throw e;
      // rolled back (the follower's caches go with the replica: a restart reads its store again)
    }
    this.host.crashNow(this.id);
    return null;
  }

  crash(restartAt: number): void {
    this.follower = null;
    this.restartAt = restartAt;
  }

  restart(): void {
    this.follower = new Follower(this.fstore);
    this.delivery.restart();
    this.hlc = this.store.clock();
    this.restartAt = null;
  }
}
