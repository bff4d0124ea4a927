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
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import {
  acksText,
  parseApplyReport,
  parseEntryList,
  parseReplicateText,
  type ParsedReplicate,
} from "../shared/replication.js";
import type { Env } from "../platform/env.js";
import { replicaStub } from "../platform/replica-stub.js";
import { replicasOf } from "../platform/routing.js";
import { CLUSTER_F, PBFT_NODES } from "../shared/cluster-config.js";
import { submitToNodes } from "../platform/pbft-node-stub.js";

/** Deliveries of one message before it is dead-lettered (wrangler.jsonc's max_retries is the backstop). */
export const REPLICATE_ATTEMPTS_MAX = 10;

/** What the consumer puts on the dead-letter queue. */
export interface DeadLetter {
  /** The message's wire text. */
  message: string;
  origin: string;
  attempts: number;
  failed: { target: string; error: string }[];
}

export function targetsOf(
  replicas: ReplicaConfig[],
  msg: Pick<ParsedReplicate, "origin" | "targets">,
): ReplicaConfig[] {
  return replicas.filter(
    (r) => r.name !== msg.origin && (msg.targets === undefined || msg.targets.includes(r.name)),
  );
}

/**
 * Each message's text is parsed here once (to know its origin, targets and ops) and handed to each
 * target as the same text, which parses it again itself: a receiver trusts nothing the consumer
 * read. A message that is not well-formed text can never become one: it is dropped, logged.
 * Every call has a deadline; the message counts as delivered once every target replica and n − f
 * nodes took it.
 */
export async function consumeReplicate(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx?: Pick<ExecutionContext, "waitUntil">,
): Promise<void> {
  // the node calls still running when n − f answered go on after the batch (platform/pbft-node-stub.ts)
  const keepAlive = ctx ? (calls: Promise<unknown>) => ctx.waitUntil(calls) : undefined;
  const replicas = replicasOf(env.REPLICAS);
  await Promise.all(
    batch.messages.map(async (m) => {
      const text = m.body;
      const msg = parseReplicateText(text);
      if (!msg.ok) {
        console.log({ event: "replicate_malformed", reason: msg.reason });
        return m.ack();
      }
      const { origin } = msg.value;
      const targets = targetsOf(replicas, msg.value);
      const ops = parseEntryList(msg.value.entries).flatMap((e) => (e ? [e.op] : []));
      const certify = env.CERTIFY !== "off" && ops.length > 0;
      const [results, nodes] = await Promise.all([
        Promise.allSettled(
          targets.map((r) =>
            withDeadline(
              replicaStub(env, r).applyRemote(r.name, text as string),
              PEER_DEADLINE_MS.replicaApply,
              `applyRemote at ${r.name}`,
            ),
          ),
        ),
        certify ? submitToNodes(env, ops, keepAlive) : [],
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
        if (res.status !== "fulfilled") return;
        const report = parseApplyReport(res.value);
        if (report.ok && report.value.cursor > 0) acks[targets[i]!.name] = report.value.cursor;
      });
      const originReplica = replicas.find((r) => r.name === origin);
      if (originReplica && Object.keys(acks).length > 0)
        await withDeadline(
          replicaStub(env, originReplica).confirm(originReplica.name, acksText(acks)),
          PEER_DEADLINE_MS.replicaSmall,
          `confirm at ${origin}`,
        ).catch((e: unknown) => console.log({ event: "confirm_failed", origin, error: String(e) }));
      if (failed.length === 0) return m.ack();
      if (m.attempts >= REPLICATE_ATTEMPTS_MAX) {
        console.log({ event: "replicate_dead_letter", origin, attempts: m.attempts, failed });
        const letter: DeadLetter = { message: text as string, origin, attempts: m.attempts, failed };
        await withDeadline(env.REPLICATE_DLQ.send(letter), PEER_DEADLINE_MS.queueSend, "dead letter").catch(
          (e: unknown) => console.log({ event: "replicate_dead_letter_failed", origin, error: String(e) }),
        );
        return m.ack();
      }
      console.log({ event: "replicate_retry", origin, attempts: m.attempts, failed });
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
    // ours ({origin, message: text, ...}) or the broker's own dead-lettering of a raw message's text
    const b = m.body as Partial<DeadLetter> | string | null;
    let origin: unknown;
    if (typeof b === "string") {
      const raw = parseReplicateText(b);
      origin = raw.ok ? raw.value.origin : undefined;
    } else origin = b?.origin;
    if (typeof origin === "string") perOrigin.set(origin, (perOrigin.get(origin) ?? 0) + 1);
  }
  for (const [name, n] of perOrigin) {
    const r = replicas.find((x) => x.name === name);
    if (r)
      await withDeadline(
        replicaStub(env, r).noteDeadLetter(r.name, n),
        PEER_DEADLINE_MS.replicaSmall,
        `noteDeadLetter at ${name}`,
      ).catch((e: unknown) =>
        console.log({ event: "dead_letter_note_failed", origin: name, error: String(e) }),
      );
  }
  batch.ackAll();
}
