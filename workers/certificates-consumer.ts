/**
 * Consumer of the `certificates` queue: each message is one certified batch `{certificate, ops}`
 * published by a PBFT node; the consumer hands it to every replica (`receiveCertified`, RPC) and
 * acks it only when every replica took it (any outcome but a throw: a replica drops, buffers or
 * applies it itself, idempotently). Otherwise it is retried with backoff, and on its
 * CERTIFICATES_ATTEMPTS_MAX-th attempt it goes to the dead-letter queue (and is acked), as the
 * replicate consumer does.
 */
import type { CertifiedBatchMessage } from "../durable-objects/certified-replica.js";
import type { Env } from "./env.js";
import { replicaStub } from "./replica-stub.js";
import { replicasOf } from "./routing.js";

/** Deliveries of one message before it is dead-lettered (wrangler.toml's max_retries is the backstop). */
export const CERTIFICATES_ATTEMPTS_MAX = 10;

export interface CertificateDeadLetter {
  message: CertifiedBatchMessage;
  attempts: number;
  failed: { target: string; error: string }[];
}

const seqOf = (m: CertifiedBatchMessage): unknown =>
  (m as Partial<CertifiedBatchMessage>)?.certificate?.body?.seq;

export async function consumeCertificates(
  batch: MessageBatch<CertifiedBatchMessage>,
  env: Env,
): Promise<void> {
  const replicas = replicasOf(env.REPLICAS);
  // In seq order, so that replicas apply rather than buffer when a batch holds consecutive seqs.
  const messages = [...batch.messages].sort(
    (a, b) => Number(seqOf(a.body) ?? 0) - Number(seqOf(b.body) ?? 0),
  );
  for (const m of messages) {
    const results = await Promise.allSettled(
      replicas.map((r) => replicaStub(env, r).receiveCertified(r.name, m.body)),
    );
    const failed = results.flatMap((res, i) =>
      res.status === "rejected" ? [{ target: replicas[i]!.name, error: String(res.reason) }] : [],
    );
    if (failed.length === 0) {
      m.ack();
      continue;
    }
    const seq = seqOf(m.body);
    if (m.attempts >= CERTIFICATES_ATTEMPTS_MAX) {
      console.log({ event: "certificates_dead_letter", seq, attempts: m.attempts, failed });
      const letter: CertificateDeadLetter = { message: m.body, attempts: m.attempts, failed };
      await env.CERTIFICATES_DLQ.send(letter);
      m.ack();
      continue;
    }
    console.log({ event: "certificates_retry", seq, attempts: m.attempts, failed });
    m.retry({ delaySeconds: Math.min(60, 2 ** Math.min(m.attempts, 6)) });
  }
}

/** Consumer of the dead-letter queue: logged for operators (replicas fetch the seq from the nodes: certified-sync.ts). */
export function consumeCertificateDeadLetters(batch: MessageBatch<unknown>): void {
  for (const m of batch.messages) {
    const b = m.body as Partial<CertificateDeadLetter> & Partial<CertifiedBatchMessage>;
    console.log({
      event: "certificates_dead_lettered",
      seq: seqOf((b.message ?? b) as CertifiedBatchMessage) ?? null,
      attempts: b.attempts ?? m.attempts,
    });
  }
  batch.ackAll();
}
