/**
 * The follower's catch-up decisions: which node to ask, whether to fetch, from where and how many,
 * what a node's answer is worth, when to ask the next node at once, when a gap is unrecoverable.
 * Pure and deterministic: the host (durable-objects/certified-sync.ts) makes each call this asks
 * for, with its deadline, and feeds the answer back; the start of the rotation is the host's choice.
 *
 * A round: ask one node (in rotation: one Byzantine node can't starve it) for its certified head;
 * if it is ahead and the seqs are not just in flight — at or below a head seen in an earlier round,
 * or below a batch buffered behind a gap (`noteGap`) — ask it for up to `batchesMax` batches from
 * the follower's head + 1 and hand each, in seq order, to the follower's one entry point. A refused
 * batch or a silent node moves on to the next node at once, once per node in a row. A seq that every
 * node answers it lacks is unrecoverable (logged once): the cure is a certified state transfer.
 */
import { parseCertifiedBatches, seqHint } from "../wire/certified-batch.js";
import type { CertReport } from "./types.js";
import type { FollowerEvent } from "./types.js";

export interface SyncStats {
  /** Rounds that asked a node for its head. */
  rounds: number;
  /** Batches fetched and handed to the replica. */
  fetched: number;
  /** Batches applied by this path (with buffered ones they unblocked). */
  applied: number;
  /** Batches the replica refused (a forged certificate, ops not the certificate's, out of order). */
  refused: number;
  /** Calls that failed: a node not answering, or the replica throwing (e.g. refusing batches). */
  failures: number;
  /** Gaps no node could fill (every node lacks the seq): logged once each. */
  unrecoverable: number;
}

/** Where the follower stands when a decision is taken. */
export interface FollowerView {
  /** The newest certified seq applied (0: none). */
  head: number;
  /** False once it diverged: it takes no batch, so there is nothing to fetch. */
  canApply: boolean;
}

/** An answer from a call: what came back (untrusted), or why nothing did. */
export type Answer<T> = { ok: true; value: T } | { ok: false; error: string };

/** What the host does next in this round. */
export type CatchUpStep =
  | { kind: "askHead"; node: number }
  | { kind: "askBatches"; node: number; fromSeq: number; max: number }
  | { kind: "deliver"; node: number; text: string }
  | { kind: "done"; more: boolean };

interface Round {
  node: number;
  /** min(node's head, what was known before): fetch no further. */
  upTo: number;
  from: number;
  /** The batches' texts in order, the first `valid` of which carry the seqs expected. */
  list: string[];
  valid: number;
  k: number;
  applied: number;
}

export class CatchUp {
  readonly stats: SyncStats = {
    rounds: 0,
    fetched: 0,
    applied: 0,
    refused: 0,
    failures: 0,
    unrecoverable: 0,
  };
  /** To log, drained by the host after each step. */
  readonly log: FollowerEvent[] = [];
  /** The next node to ask. */
  private next: number;
  /** Seqs known certified for a while: a head seen in an earlier round, or below a buffered batch. */
  private known = 0;
  /** Refusals in a row (each moves to the next node at once, at most one try per node). */
  private refusedInRow = 0;
  /** Heads not answered in a row (each moves to the next node at once, at most one try per node). */
  private headFailuresInRow = 0;
  /** The seq every node is asked for while none has it, and which nodes said they lack it. */
  private lacking: { seq: number; nodes: Set<number> } = { seq: 0, nodes: new Set() };
  /** The last seq logged unrecoverable (logged once). */
  private reported = 0;
  private round: Round | undefined;

  constructor(
    readonly ids: readonly string[],
    start: number,
    /** Batches one call may ask for (a node serves at most this many). */
    private readonly batchesMax: number,
  ) {
    this.next = start % ids.length;
  }

  /** Did every node say it lacks `head + 1` (older than what they keep)? A certified state transfer is the cure. */
  gapUnrecoverable(head: number): boolean {
    return this.lacking.seq === head + 1 && this.lacking.nodes.size >= this.ids.length;
  }

  /** Is a certified state transfer wanted: one in progress, a divergence, or a gap no node can fill? */
  transferWanted(active: boolean, diverged: boolean, head: number): boolean {
    return active || diverged || this.gapUnrecoverable(head);
  }

  /** A batch of `seq` was buffered: every seq below it is certified, and missing here. */
  noteGap(seq: number): void {
    if (Number.isSafeInteger(seq) && seq > this.known + 1) this.known = seq - 1;
  }

  /** Begin a round. */
  start(v: FollowerView): CatchUpStep {
    this.round = undefined;
    if (!v.canApply) return { kind: "done", more: false };
    const i = this.next;
    this.next = (i + 1) % this.ids.length;
    this.stats.rounds++;
    this.round = { node: i, upTo: 0, from: 0, list: [], valid: 0, k: 0, applied: 0 };
    return { kind: "askHead", node: i };
  }

  /** The node's answer to `askHead`. */
  onHead(v: FollowerView, a: Answer<unknown>): CatchUpStep {
    const r = this.current();
    if (!a.ok) {
      // a node that does not answer (past its short deadline): the next one is asked at once, once
      // per node in a row, so one silent node costs a round a second, not a period
      this.failed(r.node, "head", a.error);
      return this.done(++this.headFailuresInRow < this.ids.length);
    }
    const h = a.value;
    const nodeHead = Number.isSafeInteger(h) && (h as number) > 0 ? (h as number) : 0;
    this.headFailuresInRow = 0;
    const seenBefore = this.known;
    if (nodeHead > this.known) this.known = nodeHead;
    // seqs certified since the last round are most likely in the queue right now: leave them to it
    r.upTo = Math.min(nodeHead, seenBefore);
    if (r.upTo <= v.head) return this.done(false);
    r.from = v.head + 1;
    return {
      kind: "askBatches",
      node: r.node,
      fromSeq: r.from,
      max: Math.min(this.batchesMax, r.upTo - v.head),
    };
  }

  /** The node's answer to `askBatches` (the wire text of a list of batch texts). */
  onBatches(v: FollowerView, a: Answer<unknown>): CatchUpStep {
    const r = this.current();
    if (!a.ok) return this.done(this.failed(r.node, "batches", a.error));
    const parsed = parseCertifiedBatches(a.value);
    if (!parsed.ok) return this.done(this.refused(r.node, r.from, `answer_${parsed.reason}`));
    r.list = parsed.value.slice(0, this.batchesMax);
    if (r.list.length === 0) {
      this.noteLacking(r.node, r.from);
      return this.done(false);
    }
    r.valid = 0;
    while (r.valid < r.list.length && seqHint(r.list[r.valid]!) === r.from + r.valid) r.valid++;
    return this.deliverNext(v);
  }

  /** The follower's report on the batch delivered last (or the error it threw). */
  onDelivered(v: FollowerView, a: Answer<CertReport>): CatchUpStep {
    const r = this.current();
    if (!a.ok) {
      this.noteApplied(v, r);
      return this.done(this.failed(r.node, "receive", a.error));
    }
    const rep = a.value;
    this.stats.fetched++;
    const seq = r.from + r.k;
    r.k++;
    if (rep.outcome === "applied") r.applied += rep.applied;
    else if (rep.outcome === "duplicate") {
      // the queue brought it meanwhile
    } else if (rep.outcome === "invalid" || rep.outcome === "ops_mismatch") {
      this.noteApplied(v, r);
      return this.done(this.refused(r.node, seq, rep.reason ?? rep.outcome));
    } else {
      // halted, a root mismatch, a full buffer: nothing a fetch from another node changes now
      this.noteApplied(v, r);
      return this.done(false);
    }
    return this.deliverNext(v);
  }

  private deliverNext(v: FollowerView): CatchUpStep {
    const r = this.current();
    if (r.k < r.valid) return { kind: "deliver", node: r.node, text: r.list[r.k]! };
    if (r.k < r.list.length) {
      // a batch whose seq is not the one expected: refused before the follower sees it
      this.noteApplied(v, r);
      return this.done(this.refused(r.node, r.from + r.k, "out_of_order"));
    }
    this.refusedInRow = 0;
    this.noteApplied(v, r);
    return this.done(v.canApply && v.head < r.upTo);
  }

  private current(): Round {
    if (!this.round) throw new Error("catch-up: no round in progress");
    return this.round;
  }

  private done(more: boolean): CatchUpStep {
    this.round = undefined;
    return { kind: "done", more };
  }

  private noteApplied(v: FollowerView, r: Round): void {
    if (r.applied === 0) return;
    this.stats.applied += r.applied;
    this.lacking = { seq: 0, nodes: new Set() };
    this.emit("log", "certified_sync_applied", {
      node: this.ids[r.node],
      from: r.from,
      applied: r.applied,
      head: v.head,
    });
  }

  private failed(node: number, call: string, error: string): false {
    this.stats.failures++;
    this.emit("log", "certified_sync_failed", { node: this.ids[node], call, error });
    return false;
  }

  /** A node served a batch the follower refused: the next node is asked at once (once per node). */
  private refused(node: number, seq: number, reason: string): boolean {
    this.stats.refused++;
    this.emit("log", "certified_sync_refused", { node: this.ids[node], seq, reason });
    this.refusedInRow++;
    return this.refusedInRow < this.ids.length;
  }

  /** Node `i` is past `seq` but lacks it; once every node said so, the gap is logged, once. */
  private noteLacking(i: number, seq: number): void {
    if (this.lacking.seq !== seq) this.lacking = { seq, nodes: new Set() };
    this.lacking.nodes.add(i);
    if (this.lacking.nodes.size < this.ids.length || this.reported === seq) return;
    this.reported = seq;
    this.stats.unrecoverable++;
    this.emit("error", "certified_gap_unrecoverable", { seq, nodes: this.ids });
  }

  private emit(level: FollowerEvent["level"], event: string, fields: Record<string, unknown>): void {
    this.log.push({ level, event, fields });
  }
}
