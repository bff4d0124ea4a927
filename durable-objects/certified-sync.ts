/**
 * Certified catch-up at an edge replica: fetch the certified batches it misses from the PBFT nodes.
 * The queue brings each seq's batch (its poster's copy, and the fallback's); when every copy of a
 * seq is lost (the local broker keeps messages in memory), dead-lettered, or was refused while this
 * replica refused batches, the replica would wait at that gap for good. So one task of the
 * replica's alarm (durable-objects/delivery.ts, `certifiedSync`, not with CERTIFY "off") runs a
 * round every period:
 *
 * 1. ask one node, in rotation (pbft-0..3: one Byzantine node can't starve it), for the newest seq
 *    it keeps a certified batch for (`certifiedHead`, one small RPC: all an idle, caught-up replica
 *    pays);
 * 2. if that node is ahead, and the seqs are not just in flight — at or below a head seen in an
 *    earlier round, or below a batch that was buffered behind a gap (`noteGap`) — fetch up to
 *    CERTIFIED_BATCHES_MAX batches from this replica's head + 1 (`certifiedBatches`) and hand each, in
 *    seq order, to the replica's one entry point (`EdgeReplica.receiveCertified`), which verifies the
 *    certificate, the log chain and the roots: a forged or wrong batch is refused there, and the
 *    next node is asked (at once, up to one try per node).
 *
 * A seq that every node answers it lacks (older than what they keep, CERTIFIED_KEPT_SEQS) is logged
 * once as `certified_gap_unrecoverable` and counted. Counters are in memory (since the instance
 * started), in the replica's `stats().certifiedSync`. See docs/architecture.md ("Catching up").
 */
import { PBFT_NODES } from "../shared/cluster-config.js";
import type { Env } from "../workers/env.js";
import { CERTIFIED_BATCHES_MAX, certifiedBatchesOf, certifiedHeadOf } from "../workers/pbft-node-stub.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import { parseCertifiedBatches, seqHint } from "../shared/wire/certified-batch.js";
import type { CertReport } from "./certified-replica.js";

/** The replica side: its certified head, and its one entry point for certified batches. */
export interface SyncTarget {
  /** The newest certified seq applied (0: none). */
  head(): number;
  /** False once the replica diverged: it takes no batch any more, so there is nothing to fetch. */
  canApply(): boolean;
  /** `EdgeReplica.receiveCertified`: parses, verifies and applies (throws only on a fault or a failure). */
  receive(replica: string, text: string): Promise<CertReport>;
}

/** The nodes asked, by index (their answers are untrusted: anything may come back, or nothing). */
export interface NodeSource {
  readonly ids: readonly string[];
  head(i: number): Promise<unknown>;
  /** The answer's wire text (`parseCertifiedBatches`). */
  batches(i: number, fromSeq: number, max: number): Promise<unknown>;
}

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

/** The PBFT nodes of this deployment, through their stubs. */
export function clusterNodes(env: Env): NodeSource {
  return {
    ids: PBFT_NODES.map((n) => n.id),
    head: (i) =>
      withDeadline(certifiedHeadOf(env, PBFT_NODES[i]!), PEER_DEADLINE_MS.nodeHead, "certifiedHead"),
    batches: (i, fromSeq, max) =>
      withDeadline(
        certifiedBatchesOf(env, PBFT_NODES[i]!, fromSeq, max),
        PEER_DEADLINE_MS.nodeFetch,
        "certifiedBatches",
      ),
  };
}

export class CertifiedSync {
  readonly stats: SyncStats = {
    rounds: 0,
    fetched: 0,
    applied: 0,
    refused: 0,
    failures: 0,
    unrecoverable: 0,
  };
  /** The next node to ask (a random start, so replicas don't all ask the same node first). */
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

  constructor(private readonly nodes: NodeSource) {
    this.next = Math.floor(Math.random() * nodes.ids.length);
  }

  /** Did every node say it lacks `head + 1` (older than what they keep)? A certified state transfer is the cure. */
  gapUnrecoverable(head: number): boolean {
    return this.lacking.seq === head + 1 && this.lacking.nodes.size >= this.nodes.ids.length;
  }

  /** A batch of `seq` was buffered: every seq below it is certified, and missing here. */
  noteGap(seq: number): void {
    if (Number.isSafeInteger(seq) && seq > this.known + 1) this.known = seq - 1;
  }

  /** One round (see the file comment); true when there is more to fetch at once. */
  async round(replica: string, target: SyncTarget): Promise<boolean> {
    if (!target.canApply()) return false;
    const n = this.nodes.ids.length;
    const i = this.next;
    this.next = (i + 1) % n;
    const node = this.nodes.ids[i]!;
    this.stats.rounds++;
    let nodeHead: number;
    try {
      const h: unknown = await this.nodes.head(i);
      nodeHead = Number.isSafeInteger(h) && (h as number) > 0 ? (h as number) : 0;
    } catch (e) {
      // a node that does not answer (past its short deadline): the next one is asked at once, once
      // per node in a row, so one silent node costs a round a second, not a period
      this.failed(replica, node, "head", e);
      return ++this.headFailuresInRow < n;
    }
    this.headFailuresInRow = 0;
    const seenBefore = this.known;
    if (nodeHead > this.known) this.known = nodeHead;
    const head = target.head();
    // seqs certified since the last round are most likely in the queue right now: leave them to it
    const upTo = Math.min(nodeHead, seenBefore);
    if (upTo <= head) return false;
    const from = head + 1;
    let answer: unknown;
    try {
      answer = await this.nodes.batches(i, from, Math.min(CERTIFIED_BATCHES_MAX, upTo - head));
    } catch (e) {
      return this.failed(replica, node, "batches", e);
    }
    const parsed = parseCertifiedBatches(answer);
    if (!parsed.ok) return this.refused(replica, node, from, `answer_${parsed.reason}`);
    const list = parsed.value.slice(0, CERTIFIED_BATCHES_MAX);
    if (list.length === 0) {
      this.noteLacking(replica, i, from);
      return false;
    }
    let applied = 0;
    for (const [k, b] of list.entries()) {
      if (seqHint(b) !== from + k) {
        this.noteApplied(replica, node, from, applied, target);
        return this.refused(replica, node, from + k, "out_of_order");
      }
      let r: CertReport;
      try {
        r = await target.receive(replica, b);
      } catch (e) {
        this.noteApplied(replica, node, from, applied, target);
        return this.failed(replica, node, "receive", e);
      }
      this.stats.fetched++;
      if (r.outcome === "applied") applied += r.applied;
      else if (r.outcome === "duplicate")
        continue; // the queue brought it meanwhile
      else if (r.outcome === "invalid" || r.outcome === "ops_mismatch") {
        this.noteApplied(replica, node, from, applied, target);
        return this.refused(replica, node, from + k, r.reason ?? r.outcome);
      } else {
        // halted, a root mismatch, a full buffer: nothing a fetch from another node changes now
        this.noteApplied(replica, node, from, applied, target);
        return false;
      }
    }
    this.refusedInRow = 0;
    this.noteApplied(replica, node, from, applied, target);
    return target.canApply() && target.head() < upTo;
  }

  private noteApplied(replica: string, node: string, from: number, applied: number, t: SyncTarget): void {
    if (applied === 0) return;
    this.stats.applied += applied;
    this.lacking = { seq: 0, nodes: new Set() };
    console.log({ event: "certified_sync_applied", replica, node, from, applied, head: t.head() });
  }

  private failed(replica: string, node: string, call: string, e: unknown): false {
    this.stats.failures++;
    console.log({ event: "certified_sync_failed", replica, node, call, error: String(e) });
    return false;
  }

  /** A node served a batch the replica refused: the next node is asked at once (once per node). */
  private refused(replica: string, node: string, seq: number, reason: string): boolean {
    this.stats.refused++;
    console.log({ event: "certified_sync_refused", replica, node, seq, reason });
    this.refusedInRow++;
    return this.refusedInRow < this.nodes.ids.length;
  }

  /** Node `i` is past `seq` but lacks it; once every node said so, the gap is logged, once. */
  private noteLacking(replica: string, i: number, seq: number): void {
    if (this.lacking.seq !== seq) this.lacking = { seq, nodes: new Set() };
    this.lacking.nodes.add(i);
    if (this.lacking.nodes.size < this.nodes.ids.length || this.reported === seq) return;
    this.reported = seq;
    this.stats.unrecoverable++;
    console.error({ event: "certified_gap_unrecoverable", replica, seq, nodes: this.nodes.ids });
  }
}
