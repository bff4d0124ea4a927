/**
 * Certified catch-up at an edge replica: fetch the certified batches it misses from the PBFT nodes.
 * The queue brings each seq's batch (its poster's copy, and the fallback's); when every copy of a
 * seq is lost (the local broker keeps messages in memory), dead-lettered, or was refused while this
 * replica refused batches, the replica would wait at that gap for good. So one task of the
 * replica's alarm (durable-objects/delivery.ts, `certifiedSync`, not with CERTIFY "off") runs a
 * round every period. Every decision (which node, whether and what to fetch, what an answer is
 * worth, when to ask the next node at once, an unrecoverable gap) is the pure core's,
 * shared/follower/catch-up.ts; this shell makes the calls it asks for — each with its deadline
 * (`clusterNodes`) — hands fetched batches to the replica's one entry point
 * (`EdgeReplica.receiveCertified`: certificate, log chain, roots), feeds every answer back and logs
 * what the core noted. Counters are in memory (since the instance started), in the replica's
 * `stats().certifiedSync`. See docs/architecture.md ("Catching up").
 */
import { PBFT_NODES } from "../shared/cluster-config.js";
import type { Env } from "../platform/env.js";
import { certifiedBatchesOf, certifiedHeadOf } from "../platform/pbft-node-stub.js";
import { CERTIFIED_BATCHES_MAX } from "../shared/rpc/nodes.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import { CatchUp, type Answer, type FollowerView, type SyncStats } from "../shared/follower/catch-up.js";
import type { CertReport } from "../shared/follower/types.js";

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
  private readonly core: CatchUp;

  constructor(private readonly nodes: NodeSource) {
    // a random start, so replicas don't all ask the same node first
    this.core = new CatchUp(nodes.ids, Math.floor(Math.random() * nodes.ids.length), CERTIFIED_BATCHES_MAX);
  }

  get stats(): SyncStats {
    return this.core.stats;
  }

  /** Did every node say it lacks `head + 1` (older than what they keep)? A certified state transfer is the cure. */
  gapUnrecoverable(head: number): boolean {
    return this.core.gapUnrecoverable(head);
  }

  /** Is a certified state transfer wanted instead of a round (the core's rule)? */
  transferWanted(active: boolean, diverged: boolean, head: number): boolean {
    return this.core.transferWanted(active, diverged, head);
  }

  /** A batch of `seq` was buffered: every seq below it is certified, and missing here. */
  noteGap(seq: number): void {
    this.core.noteGap(seq);
  }

  /** One round (see the file comment): each call the core asks for, its answer back; true when there is more to fetch at once. */
  async round(replica: string, target: SyncTarget): Promise<boolean> {
    const view = (): FollowerView => ({ head: target.head(), canApply: target.canApply() });
    let step = this.core.start(view());
    for (;;) {
      this.flush(replica);
      // each answer is awaited before the view is read: the replica may have moved meanwhile
      switch (step.kind) {
        case "done":
          return step.more;
        case "askHead": {
          const { node } = step;
          const answer = await settle(() => this.nodes.head(node));
          step = this.core.onHead(view(), answer);
          break;
        }
        case "askBatches": {
          const { node, fromSeq, max } = step;
          const answer = await settle(() => this.nodes.batches(node, fromSeq, max));
          step = this.core.onBatches(view(), answer);
          break;
        }
        case "deliver": {
          const { text } = step;
          const answer = await settle(() => target.receive(replica, text));
          step = this.core.onDelivered(view(), answer);
          break;
        }
      }
    }
  }

  private flush(replica: string): void {
    for (const e of this.core.log.splice(0)) console[e.level]({ event: e.event, replica, ...e.fields });
  }
}

/** A call's answer, or why there was none (a throw, a rejection, a deadline passed). */
async function settle<T>(call: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (e) {
    return { ok: false, error: String(e) };
  }
}
