/**
 * Consumer of the `replicate` queue: delivers each origin's batch to its targets (every other
 * replica, or the peers a re-send names). A message is acked only when every target took it;
 * otherwise it is retried with backoff, and on its REPLICATE_ATTEMPTS_MAX-th attempt it goes to the
 * dead-letter queue (and is acked). Targets dedupe by origin position and op id, so redelivery
 * changes nothing. What each target took is confirmed to the origin (its cursor for that origin),
 * which is what lets the origin stop re-sending: docs/architecture.md ("Delivery and anti-entropy").
 * The queue is only the fast path: anti-entropy delivers whatever it loses or dead-letters.
 *
 * Every message's ops also go to all four PBFT nodes (a Byzantine primary can't censor what the
 * backups have seen): each node verifies and pools them, and dedupes what it has seen or executed.
 * The message counts as delivered once n − f nodes took it (a faulty node can't hold it back).
 */
import type { ReplicaConfig } from "../shared/config.js";
import type { ReplicateMessage } from "../shared/replication.js";
import type { Env } from "./env.js";
import { replicaStub } from "./replica-stub.js";
import { replicasOf } from "./routing.js";
import { CLUSTER_F, PBFT_NODES } from "../shared/cluster-config.js";
import { parseEntries } from "../shared/replication.js";
import { submitToNodes } from "./pbft-node-stub.js";

/** Deliveries of one message before it is dead-lettered (wrangler.toml's max_retries is the backstop). */
export const REPLICATE_ATTEMPTS_MAX = 10;

/** What the consumer puts on the dead-letter queue. */
export interface DeadLetter {
  message: ReplicateMessage;
  attempts: number;
  failed: { target: string; error: string }[];
}

export function targetsOf(replicas: ReplicaConfig[], msg: ReplicateMessage): ReplicaConfig[] {
  return replicas.filter(
    (r) => r.name !== msg.origin && (msg.targets === undefined || msg.targets.includes(r.name)),
  );
}

export async function consumeReplicate(batch: MessageBatch<ReplicateMessage>, env: Env): Promise<void> {
  const replicas = replicasOf(env.REPLICAS);
  await Promise.all(
    batch.messages.map(async (m) => {
      const targets = targetsOf(replicas, m.body);
      const ops = parseEntries(m.body.entries).flatMap((e) => (e ? [e.op] : []));
      const certify = env.CERTIFY !== "off" && ops.length > 0;
      const [results, nodes] = await Promise.all([
        Promise.allSettled(targets.map((r) => replicaStub(env, r).applyRemote(r.name, m.body))),
        certify ? submitToNodes(env, ops) : [],
      ]);
      const failed = results.flatMap((res, i) =>
        res.status === "rejected" ? [{ target: targets[i]!.name, error: String(res.reason) }] : [],
      );
      const nodesFailed = nodes.flatMap((res, i) =>
        res.status === "rejected" ? [{ target: PBFT_NODES[i]!.id, error: String(res.reason) }] : [],
      );
      if (nodesFailed.length > CLUSTER_F) failed.push(...nodesFailed);
      const acks: Record<string, number> = {};
      results.forEach((res, i) => {
        if (res.status === "fulfilled" && res.value.cursor > 0) acks[targets[i]!.name] = res.value.cursor;
      });
      const origin = replicas.find((r) => r.name === m.body.origin);
      if (origin && Object.keys(acks).length > 0)
        await replicaStub(env, origin)
          .confirm(origin.name, acks)
          .catch((e: unknown) =>
            console.log({ event: "confirm_failed", origin: origin.name, error: String(e) }),
          );
      if (failed.length === 0) return m.ack();
      if (m.attempts >= REPLICATE_ATTEMPTS_MAX) {
        console.log({ event: "replicate_dead_letter", origin: m.body.origin, attempts: m.attempts, failed });
        const letter: DeadLetter = { message: m.body, attempts: m.attempts, failed };
        await env.REPLICATE_DLQ.send(letter);
        return m.ack();
      }
      console.log({ event: "replicate_retry", origin: m.body.origin, attempts: m.attempts, failed });
      m.retry({ delaySeconds: Math.min(60, 2 ** Math.min(m.attempts, 6)) });
    }),
  );
}

/**
 * Consumer of the dead-letter queue: counts each origin's dead letters at the origin (its `stats()`),
 * for operators. Nothing needs replaying: anti-entropy delivers those ops anyway.
 */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const replicas = replicasOf(env.REPLICAS);
  const perOrigin = new Map<string, number>();
  for (const m of batch.messages) {
    // ours ({message: ...}) or the broker's own dead-lettering of a raw message
    const b = m.body as Partial<DeadLetter> & Partial<ReplicateMessage>;
    const origin = typeof b.message?.origin === "string" ? b.message.origin : b.origin;
    if (typeof origin === "string") perOrigin.set(origin, (perOrigin.get(origin) ?? 0) + 1);
  }
  for (const [name, n] of perOrigin) {
    const r = replicas.find((x) => x.name === name);
    if (r) await replicaStub(env, r).noteDeadLetter(r.name, n);
  }
  batch.ackAll();
}
