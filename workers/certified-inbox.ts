/**
 * `CertifiedInbox`, the edge's entrypoint for the nodes' Worker (`aspec-pbft`, its `EDGE` service
 * binding): a node hands over one certified batch, and the edge publishes it to every replica
 * (workers/certificates-publish.ts). A node may be Byzantine: only text within the certified-batch
 * bound is taken, and it goes on as that text, unparsed — each replica parses, verifies and orders
 * it itself (a copy it already has changes nothing). Anything else is refused and logged.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { CERTIFIED_BATCH_CHARS_MAX } from "../shared/wire/certified-batch.js";
import type { InboxAnswer } from "../shared/rpc/inbox.js";
import type { Env } from "../platform/env.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import { replicasOf } from "../platform/routing.js";
import { replicaStub } from "../platform/replica-stub.js";
import { publishText } from "./certificates-publish.js";

export class CertifiedInbox extends WorkerEntrypoint<Env> {
  /** `text`: a certified batch's wire text (shared/wire/certified-batch.ts); `seq`: its seq, for logs. */
  async publish(text: unknown, seq: unknown): Promise<InboxAnswer> {
    const reason =
      typeof text !== "string"
        ? "not_text"
        : text.length > CERTIFIED_BATCH_CHARS_MAX
          ? "too_large"
          : !Number.isSafeInteger(seq)
            ? "bad_seq"
            : null;
    if (reason !== null) {
      console.log({ event: "certified_post_refused", reason, type: typeof text });
      return { via: "refused", reason };
    }
    return publishText(this.env, text as string, seq as number);
  }

  /**
   * The highest seq every replica has applied (the lowest of their certified heads; 0 when one does
   * not answer in time): a fallback poster posts only seqs past it — a copy every replica has is a
   * retransmission with no loss behind it. A replica that claims too high a head cannot raise the
   * lowest one above an honest replica's.
   */
  async replicasHead(): Promise<number> {
    const heads = await Promise.all(
      replicasOf(this.env.REPLICAS).map((r) =>
        withDeadline(
          replicaStub(this.env, r).certifiedHead(r.name),
          PEER_DEADLINE_MS.nodeHead,
          "certifiedHead",
        ).then(
          (h) => (Number.isSafeInteger(h?.seq) && h.seq >= 0 ? h.seq : 0),
          () => 0,
        ),
      ),
    );
    return Math.min(...heads);
  }
}
