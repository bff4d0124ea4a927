/**
 * How a PBFT node hands a certified batch to the replicas (for the node's Durable Object shell to
 * call with each `CertifiedBatch` of its effects): one `certificates` queue message `{certificate,
 * ops}` when it fits a Queues message, otherwise (a batch may hold up to `batchBytesMax` = 1 MiB of
 * ops, a queue message at most 128 KB) a direct `receiveCertified` RPC to every replica. Either way
 * a replica verifies and orders it itself, and a copy it already has changes nothing, so every
 * node may publish every batch it certifies.
 */
import type { CertifiedBatchMessage } from "../durable-objects/certified-replica.js";
import { utf8Length } from "../shared/bytes.js";
import type { Certificate } from "../shared/certified/types.js";
import type { SignedOp } from "../shared/ops.js";
import type { Env } from "./env.js";
import { replicaStub } from "./replica-stub.js";
import { replicasOf } from "./routing.js";

/** A queue message's bytes at most (Queues allows 128 KB; room left for the broker's envelope). */
export const CERTIFICATE_MESSAGE_BYTES_MAX = 120 * 1024;

export type PublishPath = { via: "queue" } | { via: "rpc"; failed: { target: string; error: string }[] };

/** Publish one certified batch (the core's `CertifiedBatch`: its `certificate` and executed `ops`). */
export async function publishCertified(
  env: Env,
  batch: { certificate: Certificate; ops: SignedOp[] },
): Promise<PublishPath> {
  const msg: CertifiedBatchMessage = { certificate: batch.certificate, ops: batch.ops };
  if (utf8Length(JSON.stringify(msg)) <= CERTIFICATE_MESSAGE_BYTES_MAX) {
    await env.CERTIFICATES.send(msg);
    return { via: "queue" };
  }
  const replicas = replicasOf(env.REPLICAS);
  const results = await Promise.allSettled(
    replicas.map((r) => replicaStub(env, r).receiveCertified(r.name, msg)),
  );
  const failed = results.flatMap((res, i) =>
    res.status === "rejected" ? [{ target: replicas[i]!.name, error: String(res.reason) }] : [],
  );
  if (failed.length > 0)
    console.log({ event: "certificates_rpc_failed", seq: msg.certificate.body.seq, failed });
  return { via: "rpc", failed };
}
