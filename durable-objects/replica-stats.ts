/**
 * What an EdgeReplica reports of itself (`stats`, for tests, benchmarks and operators): its outbox
 * and op log, the delivery cursors and confirmations, the certified side,
 * catch-up, transfers, re-submission, its alarm and heartbeats on demand. Reads only; `keys` counts
 * the tentative state's rows (a table scan).
 */
import type { ReplicaStats } from "../shared/rpc/replica-stats.js";
import type { ReplicaParts } from "./replica-parts.js";

export function replicaStats(p: ReplicaParts): ReplicaStats {
  const { store, delivery } = p;
  const name = p.me() ?? undefined;
  const head = store.logs.ownHead();
  const cursors: Record<string, number> = {};
  for (const peer of name ? delivery.peers(name) : [])
    cursors[peer.name] = delivery.book.cursor(peer.name).cursor;
  return {
    outbox: head - Number(store.getMeta("sent_pos") ?? "0"),
    ops: store.ops.count(),
    keys: store.records.count(),
    head,
    acks: delivery.book.acks(),
    cursors,
    deadLettered: Number(store.getMeta("dead_lettered") ?? "0"),
    certification: p.certified.stats(),
    certifiedSync: { ...delivery.certifiedSync.stats },
    certifiedTransfer: { ...delivery.certifiedTransfer.stats },
    certify: delivery.certifyStatus(name),
    alarms: delivery.alarmStatus(name),
    beats: { ...p.beats.stats },
  };
}
