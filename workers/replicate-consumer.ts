/**
 * Consumer of the `replicate` queue: delivers each origin's batch to every other replica.
 * A message is acked only when every target took it; otherwise it is retried (with backoff) and,
 * after max_retries, dead-lettered. Targets dedupe by op id, so redelivery changes nothing.
 */
import type { ReplicateMessage } from "../shared/replication.js";
import type { Env } from "./env.js";
import { replicaStub } from "./replica-stub.js";
import { replicasOf } from "./routing.js";

export async function consumeReplicate(batch: MessageBatch<ReplicateMessage>, env: Env): Promise<void> {
  const replicas = replicasOf(env.REPLICAS);
  await Promise.all(
    batch.messages.map(async (m) => {
      const targets = replicas.filter((r) => r.name !== m.body.origin);
      const results = await Promise.allSettled(
        targets.map((r) => replicaStub(env, r).applyRemote(r.name, m.body)),
      );
      const failed = results.flatMap((res, i) =>
        res.status === "rejected" ? [{ target: targets[i]!.name, error: String(res.reason) }] : [],
      );
      if (failed.length === 0) return m.ack();
      console.log({ event: "replicate_retry", origin: m.body.origin, attempts: m.attempts, failed });
      m.retry({ delaySeconds: Math.min(60, 2 ** Math.min(m.attempts, 6)) });
    }),
  );
}
