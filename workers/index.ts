/** The Worker script: HTTP edge, queue consumers, and the Durable Object classes it hosts. */
import { createApp } from "./app.js";
import type { Env } from "../platform/env.js";
import { consumeDeadLetters, consumeReplicate } from "./replicate-consumer.js";
import { consumeCertificateDeadLetters, consumeCertificates } from "./certificates-consumer.js";

export { EdgeReplica } from "../durable-objects/edge-replica.js";
export { CertifiedInbox } from "./certified-inbox.js";
export { Directory } from "../durable-objects/directory.js";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
    switch (batch.queue) {
      case "aspec-replicate":
        return consumeReplicate(batch, env, ctx);
      case "aspec-replicate-dlq":
        return consumeDeadLetters(batch, env);
      case "aspec-certificates":
        return consumeCertificates(batch, env);
      case "aspec-certificates-dlq":
        return consumeCertificateDeadLetters(batch);
      default:
        console.log({ event: "unknown_queue", queue: batch.queue, messages: batch.messages.length });
        batch.retryAll();
    }
  },
} satisfies ExportedHandler<Env>;
