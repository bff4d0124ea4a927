/**
 * What an EdgeReplica's `stats()` answers (tests, operators, the bench, `GET /v1/cluster`): sizes,
 * delivery state, and what each of its parts counted since the instance started. Here, not in the
 * Durable Object's files, because the Workers read it across the RPC boundary.
 */
import type { SyncStats } from "../follower/catch-up.js";
import type { CertificationStats } from "../follower/types.js";

/** Sizes and delivery state, for tests, operators and the bench. */
export interface ReplicaStats {
  /** Own ops not yet sent through the queue. */
  outbox: number;
  /** Rows in the op log. */
  ops: number;
  keys: number;
  /** Position of the newest own op. */
  head: number;
  /** Per peer: how far it confirmed this replica's log. */
  acks: Record<string, number>;
  /** Per peer (as origin): this replica's cursor for it. */
  cursors: Record<string, number>;
  /** Replication messages of this origin that were dead-lettered. */
  deadLettered: number;
  /** The certified state: newest seq, drops, root mismatches (durable-objects/certified-replica.ts). */
  certification: CertificationStats;
  /** Certified catch-up from the PBFT nodes, since this instance started (durable-objects/certified-sync.ts). */
  certifiedSync: SyncStats;
  /** Certified state transfers from the PBFT nodes, since this instance started (durable-objects/certified-transfer.ts). */
  certifiedTransfer: TransferStats;
  /** Re-submissions of own uncertified ops, their pace, and the own ops waiting (durable-objects/delivery.ts). */
  certify: CertifyStats;
  /** Alarm runs of this instance (durable-objects/delivery.ts): what an idle replica costs. */
  alarms: AlarmStats;
  /** Beats asked of the nodes by readers, and their waits (durable-objects/beat-demand.ts). */
  beats: BeatStats;
}

/** Certified state transfers from the PBFT nodes (durable-objects/certified-transfer.ts counts them). */
export interface TransferStats {
  started: number;
  adopted: number;
  /** Nodes left: a bad or stale answer, a refused certificate, silence. */
  nodesLeft: number;
  chunksKept: number;
  chunksRefused: number;
  /** Adoptions refused (not a prefix: the transfer starts again with the whole state). */
  refusedAdoptions: number;
  /** Transfers dropped because certified batches took the replica past their seq. */
  overtaken: number;
}

/** The certify task since this instance started, and the own ops waiting uncertified (`stats()`). */
export interface CertifyStats {
  /** Ops submitted again to the nodes. */
  resubmitted: number;
  /** Re-submissions f + 1 nodes answered busy (pool full), each a backoff. */
  busy: number;
  /** Runs skipped while backing off. */
  deferred: number;
  /** Ops per re-submission now, and the backoff in force (ms). */
  limit: number;
  backoffMs: number;
  /** Own ops in the op log not certified yet (they wait here until they are). */
  waiting: number;
}

/** The replica's alarm: runs since this instance started, and the idle backoff in force. */
export interface AlarmStats {
  runs: number;
  lastAt: number | null;
  /** Idle runs in a row, up to the cap (shared/delivery/idle-backoff.ts); 0: busy pace. */
  idleLevel: number;
  /** The anti-entropy period in force (ms): the base period doubled `idleLevel` times, capped. */
  antiEntropyMs: number;
}

/** Beats asked of the nodes by readers (durable-objects/beat-demand.ts counts them). */
export interface BeatStats {
  /** Requests sent to the nodes (each to all four). */
  asked: number;
  /** Reads that waited, and those whose wait ended without a newer certificate. */
  waited: number;
  unanswered: number;
}
