/**
 * Consumer of the `certificates` queue: each message is one certified batch's wire text
 * (shared/wire/certified-batch.ts) published by a PBFT node; the consumer hands the text as is to
 * every replica (`receiveCertified`, RPC, each with a deadline), which parses and verifies it
 * itself, and acks it only when every replica took it (any outcome but a throw or a deadline: a
 * replica drops, buffers or applies it itself, idempotently). Otherwise it is retried with backoff,
 * and on its CERTIFICATES_ATTEMPTS_MAX-th attempt it goes to the dead-letter queue (and is acked).
 * A message that is not text (a structured clone a faulty node sent) can never become a valid
 * batch: it is dropped at once, logged.
 */
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import { seqHint } from "../shared/wire/certified-batch.js";
import type { Env } from "../platform/env.js";
import { replicaStub } from "../platform/replica-stub.js";
import { replicasOf } from "../platform/routing.js";

/** Deliveries of one message before it is dead-lettered (wrangler.jsonc's max_retries is the backstop). */
export const CERTIFICATES_ATTEMPTS_MAX = 10;

export interface CertificateDeadLetter {
  /** The batch's wire text. */
  message: string;
  attempts: number;
  failed: { target: string; error: string }[];
}

export async function consumeCertificates(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const replicas = replicasOf(env.REPLICAS);
  const texts: { m: Message<unknown>; text: string; seq: number }[] = [];
  for (const m of batch.messages) {
    if (typeof m.body !== "string") {
      console.log({ event: "certificates_not_text", type: typeof m.body });
      m.ack();
      continue;
    }
    texts.push({ m, text: m.body, seq: seqHint(m.body) });
  }
  // in seq order, so that replicas apply rather than buffer when a batch holds consecutive seqs
  texts.sort((a, b) => a.seq - b.seq);
  for (const { m, text, seq } of texts) {
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
    if (failed.length === 0) {
      m.ack();
      continue;
    }
    if (m.attempts >= CERTIFICATES_ATTEMPTS_MAX) {
      console.log({ event: "certificates_dead_letter", seq, attempts: m.attempts, failed });
      const letter: CertificateDeadLetter = { message: text, attempts: m.attempts, failed };
      await withDeadline(env.CERTIFICATES_DLQ.send(letter), PEER_DEADLINE_MS.queueSend, "dead letter").catch(
        (e: unknown) => console.log({ event: "certificates_dead_letter_failed", seq, error: String(e) }),
      );
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
    const b = m.body as Partial<CertificateDeadLetter> | string | null;
    const text = typeof b === "string" ? b : typeof b?.message === "string" ? b.message : "";
    const attempts = typeof b === "object" && typeof b?.attempts === "number" ? b.attempts : m.attempts;
    console.log({ event: "certificates_dead_lettered", seq: seqHint(text) || null, attempts });
  }
  batch.ackAll();
}
