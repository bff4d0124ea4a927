/**
 * One simulated EC replica: the product's replica core (shared/replica/: `submitOp`,
 * `screenEntries` / `applyEntries`) over its store, and the product's certified follower
 * (shared/follower/) over a `MemoryFollowerStore`, stepped as the EdgeReplica shell steps them
 * (signatures verified between screen and apply, each step in one transaction).
 *
 * What is the product's and what is MODELLED here (the shell's delivery is not pure code yet):
 * - the product's: admission, apply, equivocation, HLC (the core); batch ordering, buffering, root
 *   check (the follower); the tentative rebase `rebaseRecord`; the per-origin cursor
 *   (shared/delivery/origin-cursor.ts) and the re-send plan (shared/delivery/resend.ts).
 * - modelled after durable-objects/edge-replica.ts and delivery.ts: marking the op log certified
 *   and rebasing the keys a certified batch touched (here), the origin side of delivery
 *   (origin-delivery.ts), when the alarm's tasks run (here: re-send, anti-entropy pull, resubmission
 *   to the nodes, catch-up of missed certified batches).
 *   Not modelled: op log collection, evidence sharing between replicas, certified state transfer,
 *   the certify pace. Replies to reading clients are built in replies.ts.
 *
 * Durable across a crash (SQLite in the product): both stores, cursors, confirmations, the drain
 * and re-send marks. Lost: the follower's caches (a new `Follower` reads its store again), the
 * clock in memory (read back from the store), messages that reach it while down.
 */
import { Follower } from "../../../shared/follower/follower.js";
import { MemoryFollowerStore } from "../../../shared/follower/memory-store.js";
import type { CertOutcome } from "../../../shared/follower/types.js";
import { EMPTY_CURSOR, handle, isHandled, type CursorState } from "../../../shared/delivery/origin-cursor.js";
import type { Hlc } from "../../../shared/hlc.js";
import { sameContent } from "../../../shared/equivocation.js";
import { rebaseRecord } from "../../../shared/materialize.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import { applyEntries, screenEntries } from "../../../shared/replica/apply.js";
import { applyEntryEffect } from "../../../shared/replica/apply-effect.js";
import { submitOp, type SubmitResult } from "../../../shared/replica/submit.js";
import type { ReplicatedOp } from "../../../shared/replication.js";
import type { SimCrypto } from "./crypto.js";
import { entriesText, type EntriesVia, type ReplicaMessage } from "./messages.js";
import type { Parsers } from "./boundary-tricks.js";
import { OriginDelivery } from "./origin-delivery.js";
import { SimReplicaStore } from "./replica-store.js";

/** Ticks (10 ms each) between the shell's periodic tasks (scaled down from the product's seconds). */
export const RESEND_TICKS = 30;
export const PULL_TICKS = 50;
export const CERTIFY_TICKS = 40;
export const CATCH_UP_TICKS = 40;

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
  // durable delivery state: this replica's cursor for each origin, and its own ops' delivery
  private readonly cursors: CursorState[];
  private readonly delivery: OriginDelivery;
  /** Op ids planted as lost (test-only). */
  readonly lostOps = new Set<string>();

  constructor(
    readonly id: number,
    private readonly host: ReplicaHost,
    readonly plants: Plants = {},
  ) {
    this.name = `r${id}`;
    this.store = new SimReplicaStore(this.name);
    this.follower = new Follower(this.fstore);
    this.hlc = this.store.clock();
    this.cursors = Array.from({ length: host.replicaCount }, () => EMPTY_CURSOR);
    this.delivery = new OriginDelivery(this.store, this.peers);
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
        this.store.transaction(() => {
          step();
          throw new Error("power cut");
        });
      } catch {
        // rolled back: nothing of the step is stored, no reply was sent
      }
      return { kind: "down" };
    }
    const r = this.store.transaction(step);
    if (r.kind !== "accepted") return r;
    this.hlc = r.hlc;
    if (r.outcome.duplicate) return r;
    if (this.plants.loseOwnOp) {
      this.plants.loseOwnOp = false;
      this.delivery.lost.add(this.store.ownHead());
      this.lostOps.add(opIdOf(op));
      this.host.log(`${this.name} PLANTED: lost own op ${opIdOf(op)}`);
      return r;
    }
    // the drain: the queue's fast path to every peer, and the queue consumer's submission to the nodes
    const entries = this.delivery.drain();
    if (entries.length) for (const p of this.peers) this.sendEntries(p, entries, "queue");
    await this.host.submitToNodes([op], true);
    return r;
  }

  private sendEntries(to: number, entries: ReplicatedOp[], via: EntriesVia): void {
    const told = this.host.lieInEntries(this.id, entries);
    const text = entriesText(this.id, via, told, this.store.ownHead());
    this.host.send(this.id, to, { kind: "entries", origin: this.id, via, text });
  }

  // ---------------------------------------------------------------- peers

  async receive(m: ReplicaMessage): Promise<void> {
    if (!this.follower) return;
    if (m.kind === "ack") this.delivery.confirm(m.from, m.cursor);
    else if (m.kind === "pull") {
      this.delivery.confirm(m.from, m.after);
      const entries = this.delivery.page(m.after);
      if (entries.length) this.sendEntries(m.from, entries, "page");
    } else {
      // the product's parser of a queue message or a page; what it refuses is dropped (no confirmation)
      const parsed = this.host.parsers[m.via === "queue" ? "replicate" : "log-page"](m.text);
      if (parsed.ok) await this.applyFrom(m.origin, (parsed.value as { entries: unknown[] }).entries);
    }
  }

  /** A peer's entries, as `EdgeReplica.applyEntries` steps them: screen, verify, apply, move the cursor, confirm. */
  private async applyFrom(origin: number, raw: readonly unknown[]): Promise<void> {
    const from = `r${origin}`;
    const seen = (pos: number | undefined) => pos !== undefined && isHandled(this.cursors[origin]!, pos);
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
        seen,
      });
      if (this.plants.doubleApply) this.plantDoubleApply(screened.fresh);
      return r;
    });
    if (!r) return;
    this.hlc = r.hlc;
    this.cursors[origin] = handle(this.cursors[origin]!, r.handled);
    this.host.send(this.id, origin, { kind: "ack", from: this.id, cursor: this.cursors[origin]!.cursor });
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

  async timers(tick: number): Promise<void> {
    if (!this.follower) return;
    const phase = tick + this.id * 7; // replicas' alarms are not in step
    if (phase % RESEND_TICKS === 0) {
      const re = this.delivery.resend();
      if (re?.entries.length) for (const t of re.targets) this.sendEntries(t, re.entries, "queue");
    }
    if (phase % PULL_TICKS === 0)
      for (const p of this.peers)
        this.host.send(this.id, p, { kind: "pull", from: this.id, after: this.cursors[p]!.cursor });
    if (phase % CERTIFY_TICKS === 0) {
      const due = this.delivery.dueForNodes(this.host.nowMs(this.id));
      if (due.length) await this.host.submitToNodes(due, false);
    }
    if (phase % CATCH_UP_TICKS === 0) this.host.catchUp(this.id, this.follower.head().seq);
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
      return this.store.transaction(follower && cut ? () => this.fstore.transaction(body) : body);
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
    this.hlc = this.store.clock();
    this.restartAt = null;
  }
}
