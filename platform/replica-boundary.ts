/**
 * Everything an EdgeReplica sends and signs goes through one `ReplicaBoundary`: its signed replies,
 * its replicate-queue sends, its submissions to the PBFT nodes, the log pages it serves to peers,
 * the certified head it tells the edge, and whether it takes an incoming call. The Durable Object
 * builds the plain boundary here and hands it to `devFaults.replica` (the `#dev-faults` module),
 * which in dev may wrap it to tell lies; in production that module returns it unchanged, so nothing
 * but this file's plain behaviour is ever bundled (docs/architecture.md, "Dev faults").
 */
import type { SignedOp } from "../shared/ops.js";
import { signReply, type ReplicaReply, type Unsigned } from "../shared/replies.js";
import { logPageText, replicateText, type ReplicateMessage } from "../shared/replication.js";
import type { CertifiedHead } from "../shared/rpc/replica.js";
import type { SubmitAnswer } from "../shared/rpc/nodes.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import type { Env } from "./env.js";
import { submitToNodes } from "./pbft-node-stub.js";

/** Calls a replica takes from peers: replicate messages and certified batches. */
export type IncomingCall = "remote" | "certified";

export interface ReplicaBoundary {
  /** `body` signed with the replica's key `secret`. */
  sign<T extends ReplicaReply>(secret: string, body: Unsigned<T>): Promise<T>;
  /** Messages onto the replicate queue (drain, re-send, shared evidence). */
  sendReplicate(messages: readonly ReplicateMessage[]): Promise<void>;
  /** Own ops to every PBFT node; each node's answer or failure (an empty list: none was asked). */
  submitToNodes(ops: readonly SignedOp[]): Promise<PromiseSettledResult<SubmitAnswer>[]>;
  /** An anti-entropy page of own log entries served to a peer, as its wire text. */
  servePage(entries: readonly string[], head: number): string;
  /** The certified head as told to the edge. */
  certifiedHead(head: CertifiedHead): CertifiedHead;
  /** Whether an incoming call is taken (`take`) or taken and thrown away (`drop`); throws to refuse it. */
  admit(call: IncomingCall): "take" | "drop";
}

/** Cloudflare Queues: at most 100 messages per sendBatch. */
const SEND_BATCH_MESSAGES_MAX = 100;

/** The boundary as deployed: sign, send and serve exactly what the replica decided. */
export function plainReplicaBoundary(env: Env): ReplicaBoundary {
  return {
    sign: (secret, body) => signReply(secret, body),
    async sendReplicate(messages) {
      for (let i = 0; i < messages.length; i += SEND_BATCH_MESSAGES_MAX)
        await withDeadline(
          env.REPLICATE.sendBatch(
            messages.slice(i, i + SEND_BATCH_MESSAGES_MAX).map((m) => ({ body: replicateText(m) })),
          ),
          PEER_DEADLINE_MS.queueSend,
          "replicate queue send",
        );
    },
    submitToNodes: (ops) => submitToNodes(env, ops),
    servePage: (entries, head) => logPageText(entries, head),
    certifiedHead: (head) => head,
    admit: () => "take",
  };
}
