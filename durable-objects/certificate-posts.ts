/**
 * What a PBFT node does with the certified batches it completes (docs/architecture.md, "Posting
 * certificates"): it keeps each one (durable-objects/kept-batches.ts, served to replicas that missed
 * a seq), and hands it to the edge for every replica if it is the seq's poster, or schedules a
 * fallback post CERT_FALLBACK_MS later (durable-objects/fallback-posts.ts) if it is next in line
 * (`postingRole`). No post is awaited by the node's step or loop: each is fire-and-forget with its
 * deadline, at most POSTS_IN_FLIGHT_MAX at once (past that a post is skipped, counted: the fallback
 * node posts the seq too, and replicas fetch what they miss).
 */
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import type { CertifiedBatch } from "../shared/pbft/effects.js";
import { postingRole } from "../shared/pbft/posting.js";
import type { InboxAnswer } from "../shared/rpc/inbox.js";
import type { NodeStatus } from "../shared/rpc/nodes.js";
import { certifiedBatchText, type CertifiedBatchMessage } from "../shared/wire/certified-batch.js";
import type { NodeBoundary } from "../platform/node-boundary.js";
import type { PbftEnv } from "../platform/pbft-env.js";
import { FallbackPosts } from "./fallback-posts.js";
import { KeptBatches } from "./kept-batches.js";

/** Posts in flight at once from one node (each a queue send, or RPCs to the replicas for a big batch). */
export const POSTS_IN_FLIGHT_MAX = 32;
/** Fallback posts taken per loop turn. */
const FALLBACKS_PER_TURN = 100;

/** What the node's status says of its posts (shared/rpc/nodes.ts documents each count). */
export type PostCounts = Pick<
  NodeStatus,
  | "certificatesPosted"
  | "postFailures"
  | "postsSkipped"
  | "fallbacksPosted"
  | "fallbacksSkipped"
  | "fallbacksPending"
  | "postsInFlight"
>;

export class CertificatePosts {
  private readonly counts = {
    certificatesPosted: 0,
    postFailures: 0,
    postsSkipped: 0,
    fallbacksPosted: 0,
    fallbacksSkipped: 0,
  };
  private postsInFlight = 0;
  /** Fallback posts sent and not yet settled, by seq (not sent again meanwhile). */
  private readonly fallbacksInFlight = new Set<number>();
  /** The batches kept (their head and certificates are read directly). */
  readonly kept: KeptBatches;
  private readonly fallbacks: FallbackPosts;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: PbftEnv,
    /** What the node lets out (set at boot; in dev, possibly a fault wrapper). */
    private readonly out: () => NodeBoundary,
    /** Called when a fallback post settles: the node re-arms its alarm for the next one due. */
    private readonly settled: () => Promise<void>,
  ) {
    this.kept = new KeptBatches(ctx.storage.sql, env);
    this.fallbacks = new FallbackPosts(ctx.storage.sql, env);
  }

  /**
   * After the step's rows are durable: keep the batch (catch-up), and post it if this node is the
   * seq's poster, or schedule the fallback post. Synchronous: no post is awaited here.
   */
  publish(me: number, n: number, nodeId: string, c: CertifiedBatch): void {
    const seq = c.body.seq;
    // the batch's text once (canonical JSON of ~100 ops is a visible share of a node's CPU): kept
    // as certified, and posted as is unless the boundary hands out another certificate
    const kept = certifiedBatchText({ certificate: c.certificate, ops: c.ops });
    this.kept.keep(seq, kept);
    const out = this.out();
    if (!out.posts()) return;
    const certificate = out.certificate(c.certificate);
    const msg: CertifiedBatchMessage = { certificate, ops: c.ops };
    const text = certificate === c.certificate ? kept : certifiedBatchText(msg);
    const role = postingRole(seq, n, me);
    if (role === "post") this.postNow(nodeId, seq, out.postPayload(msg, text));
    else if (role === "fallback") this.fallbacks.schedule(seq, text);
  }

  private postNow(nodeId: string, seq: number, payload: unknown): void {
    if (this.postsInFlight >= POSTS_IN_FLIGHT_MAX) {
      this.counts.postsSkipped++;
      console.log({ event: "certificate_post_skipped", node: nodeId, seq, inFlight: this.postsInFlight });
      return;
    }
    this.postsInFlight++;
    const post = this.post(payload, seq)
      .then(
        () => void this.counts.certificatesPosted++,
        (e: unknown) => {
          this.counts.postFailures++;
          console.log({ event: "certificate_post_failed", node: nodeId, seq, error: String(e) });
        },
      )
      .finally(() => void this.postsInFlight--);
    this.ctx.waitUntil(post);
  }

  /**
   * Hand one certified batch to the edge (its `CertifiedInbox`, which puts it on the replicas'
   * queue), once the boundary lets it go, with a deadline. `payload` is the batch's text, or what
   * the boundary made of it (in dev maybe not a text at all): the edge and the replicas parse it as
   * a peer's.
   */
  private async post(payload: unknown, seq: number): Promise<void> {
    await this.out().beforePost();
    const answer = await withDeadline<InboxAnswer>(
      this.env.EDGE.publish(payload, seq) as Promise<InboxAnswer>,
      PEER_DEADLINE_MS.queueSend + PEER_DEADLINE_MS.replicaApply,
      "certified post to the edge",
    );
    if (answer.via === "refused") throw new Error(`the edge refused the post: ${answer.reason}`);
  }

  /** When the next fallback post is due (ms), null if none waits. */
  nextDueAt(): number | null {
    return this.fallbacks.nextDueAt();
  }

  /**
   * Post the fallback copies whose delay is over, without waiting for them: each is marked posted
   * (its row deleted) or due again a delay later when its send settles (with its deadline), so a
   * hung queue or replica never holds the node's loop. Rows already in flight are not sent twice.
   */
  postDue(nodeId: string): void {
    const now = Date.now();
    const due = this.fallbacks.due(now, FALLBACKS_PER_TURN).filter((r) => !this.fallbacksInFlight.has(r.seq));
    if (due.length === 0) return;
    const out = this.out();
    if (!out.posts()) {
      for (const r of due) this.fallbacks.done(r.seq);
      return;
    }
    for (const { seq } of due) {
      this.fallbacksInFlight.add(seq);
      // due again one delay later unless it lands or is skipped (also if this instance dies meanwhile)
      this.fallbacks.postpone(seq, now + this.fallbacks.delayMs());
    }
    // only what some replica lacks: the seq's poster has usually posted it already, and a copy every
    // replica has would be a retransmission with no loss behind it (the edge's answer is untrusted
    // only as far as the edge itself is: it carries every post anyway; no answer: post them all)
    const run = this.replicasHead().then((have) => {
      for (const { seq, msg: text } of due) {
        if (seq <= have) {
          this.fallbacks.done(seq);
          this.counts.fallbacksSkipped++;
          this.fallbacksInFlight.delete(seq);
          continue;
        }
        // one send each: a batch of ops can be ~124 KB, over what one sendBatch may carry
        const payload = out.postPayload(JSON.parse(text) as CertifiedBatchMessage, text);
        const post = this.post(payload, seq).then(
          () => {
            this.fallbacks.done(seq);
            this.counts.fallbacksPosted++;
            console.log({ event: "pbft_fallback_posted", node: nodeId, seq });
          },
          (e: unknown) =>
            console.log({ event: "pbft_fallback_post_failed", node: nodeId, seq, error: String(e) }),
        );
        this.ctx.waitUntil(post.finally(() => this.fallbacksInFlight.delete(seq)).then(this.settled));
      }
    });
    this.ctx.waitUntil(run);
  }

  /** The seq every replica has applied, as the edge reports it; -1 (post everything) on no answer. */
  private replicasHead(): Promise<number> {
    return withDeadline(
      this.env.EDGE.replicasHead() as Promise<unknown>,
      2 * PEER_DEADLINE_MS.nodeHead,
      "replicas' head from the edge",
    ).then(
      (h) => (Number.isSafeInteger(h) && (h as number) >= 0 ? (h as number) : -1),
      () => -1,
    );
  }

  /** Kept certified batches from `fromSeq` on, as the boundary serves them (kept-batches.ts). */
  served(fromSeq: number, max: number): string {
    return this.kept.served(fromSeq, max, this.out());
  }

  stats(): PostCounts {
    return {
      ...this.counts,
      fallbacksPending: this.fallbacks.pending(),
      postsInFlight: this.postsInFlight + this.fallbacksInFlight.size,
    };
  }
}
