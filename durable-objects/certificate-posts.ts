/**
 * What a PBFT node does with the certified batches it completes (docs/architecture.md, "Posting
 * certificates"): it keeps each one (`pbft_published`, the newest CERTIFIED_KEPT_SEQS seqs, served to
 * replicas that missed a seq), and hands it to the edge for every replica if it is the seq's poster,
 * or schedules a fallback post CERT_FALLBACK_MS later (`pbft_fallback`) if it is next in line
 * (`postingRole`). No post is awaited by the node's step or loop: each is fire-and-forget with its
 * deadline, at most POSTS_IN_FLIGHT_MAX at once (past that a post is skipped, counted: the fallback
 * node posts the seq too, and replicas fetch what they miss).
 */
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import type { CertifiedBatch } from "../shared/pbft/effects.js";
import { postingRole } from "../shared/pbft/posting.js";
import type { Certificate } from "../shared/certified/types.js";
import type { InboxAnswer } from "../shared/rpc/inbox.js";
import { CERTIFIED_BATCHES_BYTES_MAX, CERTIFIED_BATCHES_MAX } from "../shared/rpc/nodes.js";
import {
  certifiedBatchText,
  certifiedBatchesText,
  type CertifiedBatchMessage,
} from "../shared/wire/certified-batch.js";
import type { NodeBoundary } from "../platform/node-boundary.js";
import type { PbftEnv } from "../platform/pbft-env.js";

/** Posts in flight at once from one node (each a queue send, or RPCs to the replicas for a big batch). */
export const POSTS_IN_FLIGHT_MAX = 32;
/** How long the next node in line waits before it posts a seq's certificate too (CERT_FALLBACK_MS). */
export const CERT_FALLBACK_MS_DEFAULT = 2_000;
/** Fallback posts waiting at most (past it, the oldest is posted at once: a delay, never a loss). */
export const CERT_FALLBACK_PENDING_MAX = 256;
/** Certified batches a node keeps for replicas that missed them (`pbft_published`, the newest seqs). */
export const CERTIFIED_KEPT_SEQS = 1024;
/** Fallback posts taken per loop turn. */
const FALLBACKS_PER_TURN = 100;

export interface PostCounts {
  certificatesPosted: number;
  postFailures: number;
  postsSkipped: number;
  fallbacksPosted: number;
  /** Fallback posts not sent: every replica had the seq already when it was due. */
  fallbacksSkipped: number;
  fallbacksPending: number;
  postsInFlight: number;
}

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

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: PbftEnv,
    /** What the node lets out (set at boot; in dev, possibly a fault wrapper). */
    private readonly out: () => NodeBoundary,
    /** Called when a fallback post settles: the node re-arms its alarm for the next one due. */
    private readonly settled: () => Promise<void>,
  ) {
    const sql = ctx.storage.sql;
    // fallback posts of certified batches ({certificate, ops} JSON), due at `due_at` (ms)
    sql.exec(
      "CREATE TABLE IF NOT EXISTS pbft_fallback (seq INTEGER PRIMARY KEY, due_at INTEGER NOT NULL, msg TEXT NOT NULL)",
    );
    // the certified batches it completed ({certificate, ops} JSON), the newest CERTIFIED_KEPT_SEQS
    sql.exec("CREATE TABLE IF NOT EXISTS pbft_published (seq INTEGER PRIMARY KEY, msg TEXT NOT NULL)");
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
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
    this.keep(seq, kept);
    const out = this.out();
    if (!out.posts()) return;
    const certificate = out.certificate(c.certificate);
    const msg: CertifiedBatchMessage = { certificate, ops: c.ops };
    const text = certificate === c.certificate ? kept : certifiedBatchText(msg);
    const role = postingRole(seq, n, me);
    if (role === "post") this.postNow(nodeId, seq, out.postPayload(msg, text));
    else if (role === "fallback") this.scheduleFallback(seq, text);
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

  private scheduleFallback(seq: number, text: string): void {
    this.sql.exec(
      "INSERT INTO pbft_fallback (seq, due_at, msg) VALUES (?, ?, ?) ON CONFLICT (seq) DO NOTHING",
      seq,
      Date.now() + this.fallbackMs(),
      text,
    );
    const pending = this.pendingFallbacks();
    if (pending > CERT_FALLBACK_PENDING_MAX)
      this.sql.exec(
        "UPDATE pbft_fallback SET due_at = 0 WHERE seq IN (SELECT seq FROM pbft_fallback ORDER BY seq LIMIT ?)",
        pending - CERT_FALLBACK_PENDING_MAX,
      );
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

  /** Keep a completed certified batch as it was certified (faults act on what is served, not here). */
  private keep(seq: number, text: string): void {
    this.sql.exec(
      "INSERT INTO pbft_published (seq, msg) VALUES (?, ?) ON CONFLICT (seq) DO NOTHING",
      seq,
      text,
    );
    this.sql.exec("DELETE FROM pbft_published WHERE seq <= ?", seq - this.keptSeqs());
  }

  /** CERTIFIED_KEPT_SEQS, or the env's (tests: a short retention; at least 16). */
  private keptSeqs(): number {
    const v = Number(this.env.CERTIFIED_KEPT_SEQS);
    return Number.isSafeInteger(v) && v >= 16 ? v : CERTIFIED_KEPT_SEQS;
  }

  private fallbackMs(): number {
    const v = Number(this.env.CERT_FALLBACK_MS);
    return Number.isSafeInteger(v) && v >= 0 && v <= 3_600_000 ? v : CERT_FALLBACK_MS_DEFAULT;
  }

  /** When the next fallback post is due (ms), null if none waits. */
  nextDueAt(): number | null {
    return (
      this.sql.exec<{ at: number | null }>("SELECT min(due_at) AS at FROM pbft_fallback").one().at ?? null
    );
  }

  private pendingFallbacks(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM pbft_fallback").one().n;
  }

  /**
   * Post the fallback copies whose delay is over, without waiting for them: each is marked posted
   * (its row deleted) or due again a delay later when its send settles (with its deadline), so a
   * hung queue or replica never holds the node's loop. Rows already in flight are not sent twice.
   */
  postDue(nodeId: string): void {
    const now = Date.now();
    const due = this.sql
      .exec<{ seq: number; msg: string }>(
        "SELECT seq, msg FROM pbft_fallback WHERE due_at <= ? ORDER BY seq LIMIT ?",
        now,
        FALLBACKS_PER_TURN,
      )
      .toArray()
      .filter((r) => !this.fallbacksInFlight.has(r.seq));
    if (due.length === 0) return;
    const out = this.out();
    if (!out.posts()) {
      for (const r of due) this.sql.exec("DELETE FROM pbft_fallback WHERE seq = ?", r.seq);
      return;
    }
    for (const { seq } of due) {
      this.fallbacksInFlight.add(seq);
      // due again one delay later unless it lands or is skipped (also if this instance dies meanwhile)
      this.sql.exec("UPDATE pbft_fallback SET due_at = ? WHERE seq = ?", now + this.fallbackMs(), seq);
    }
    // only what some replica lacks: the seq's poster has usually posted it already, and a copy every
    // replica has would be a retransmission with no loss behind it (the edge's answer is untrusted
    // only as far as the edge itself is: it carries every post anyway; no answer: post them all)
    const run = this.replicasHead().then((have) => {
      for (const { seq, msg: text } of due) {
        if (seq <= have) {
          this.sql.exec("DELETE FROM pbft_fallback WHERE seq = ?", seq);
          this.counts.fallbacksSkipped++;
          this.fallbacksInFlight.delete(seq);
          continue;
        }
        // one send each: a batch of ops can be ~124 KB, over what one sendBatch may carry
        const payload = out.postPayload(JSON.parse(text) as CertifiedBatchMessage, text);
        const post = this.post(payload, seq).then(
          () => {
            this.sql.exec("DELETE FROM pbft_fallback WHERE seq = ?", seq);
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

  /** The newest seq kept (0: none). */
  head(): number {
    return this.sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM pbft_published").one().s ?? 0;
  }

  /**
   * Kept certified batches from `fromSeq` on, contiguous (it stops at the first seq it lacks: one it
   * skipped by state transfer, or older than what it keeps), at most `max` (≤ CERTIFIED_BATCHES_MAX)
   * and CERTIFIED_BATCHES_BYTES_MAX of JSON past the first, as the text of a JSON array of each
   * batch's wire text, as the boundary serves them.
   */
  served(fromSeq: number, max: number): string {
    const out = this.out();
    const rows = this.sql
      .exec<{ seq: number; msg: string }>(
        "SELECT seq, msg FROM pbft_published WHERE seq >= ? ORDER BY seq LIMIT ?",
        fromSeq,
        Math.min(max, CERTIFIED_BATCHES_MAX),
      )
      .toArray();
    const texts: string[] = [];
    let bytes = 0;
    for (const [i, r] of rows.entries()) {
      if (r.seq !== fromSeq + i) break;
      bytes += r.msg.length;
      if (i > 0 && bytes > CERTIFIED_BATCHES_BYTES_MAX) break;
      const msg = JSON.parse(r.msg) as CertifiedBatchMessage; // its own row, written by `keep`
      const served = { ...msg, certificate: out.certificate(msg.certificate) };
      texts.push(out.servedText(served, certifiedBatchText(served)));
    }
    return certifiedBatchesText(texts);
  }

  /** The certificate of a kept `seq`, if kept. */
  keptCertificate(seq: number): Certificate | undefined {
    const row = this.sql
      .exec<{ msg: string }>("SELECT msg FROM pbft_published WHERE seq = ?", seq)
      .toArray()[0];
    return row ? (JSON.parse(row.msg) as CertifiedBatchMessage).certificate : undefined;
  }

  stats(): PostCounts {
    return {
      ...this.counts,
      fallbacksPending: this.pendingFallbacks(),
      postsInFlight: this.postsInFlight + this.fallbacksInFlight.size,
    };
  }
}
