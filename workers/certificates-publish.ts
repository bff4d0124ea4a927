/**
 * How the edge hands a certified batch from a PBFT node (workers/certified-inbox.ts) to the
 * replicas: its wire text (shared/wire/certified-batch.ts) as
 * one `certificates` queue message when it fits a Queues message, otherwise (a batch may hold up to
 * `batchBytesMax` = 1 MiB of ops, a queue message at most 128 KB) a direct `receiveCertified` RPC to
 * every replica. Either way a replica parses, verifies and orders it itself, and a copy it already
 * has changes nothing, so every node may publish every batch it certifies. Every send has a deadline.
 */
import { utf8Length } from "../shared/bytes.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import { certifiedBatchText, type CertifiedBatchMessage } from "../shared/wire/certified-batch.js";
import type { PublishPath } from "../shared/rpc/inbox.js";
import type { Env } from "../platform/env.js";
import { replicaStub } from "../platform/replica-stub.js";
import { replicasOf } from "../platform/routing.js";

/** A queue message's bytes at most (Queues allows 128 KB; room left for the broker's envelope). */
export const CERTIFICATE_MESSAGE_BYTES_MAX = 120 * 1024;

/** Publish one certified batch (the core's `CertifiedBatch`: its `certificate` and executed `ops`). */
export function publishCertified(env: Env, batch: CertifiedBatchMessage): Promise<PublishPath> {
  return publishText(env, certifiedBatchText(batch), batch.certificate.body.seq);
}

/** Publish a batch's text as is (workers/certified-inbox.ts takes it from the nodes' Worker). */
export async function publishText(env: Env, text: string, seq: number): Promise<PublishPath> {
  if (utf8Length(text) <= CERTIFICATE_MESSAGE_BYTES_MAX) {
    await withDeadline(env.CERTIFICATES.send(text), PEER_DEADLINE_MS.queueSend, "certificates queue send");
    return { via: "queue" };
  }
  const replicas = replicasOf(env.REPLICAS);
  const results = await Promise.allSettled(
    replicas.map((r) =>
      withDeadline(
        replicaStub(env, r).receiveCertified(r.name, text),
        PEER_DEADLINE_MS.replicaApply,
        `receiveCertified at ${r.name}`,
      ),
    ),
  );
  const failed = results.flatMap((res, i) =>
    res.status === "rejected" ? [{ target: replicas[i]!.name, error: String(res.reason) }] : [],
  );
  if (failed.length > 0) console.log({ event: "certificates_rpc_failed", seq, failed });
  return { via: "rpc", failed };
}
