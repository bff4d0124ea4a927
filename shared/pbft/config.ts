/**
 * Tunables and limits of the PBFT core. Every count the core keeps is bounded by one of these.
 * Time is ticks: the shell turns wall-clock time into ticks (`tickMs`), the core never reads a clock.
 */
import type { ClusterConfig } from "../certified/types.js";
import { batchBytesLimit, OP_BYTES_COUNTED_MAX } from "./batch-bytes.js";

export interface PbftConfig {
  /** Length of one tick in ms: `tick = floor(nowMs / tickMs)`. */
  tickMs: number;
  /** Most ops in one batch (the bench uses 1, 10, 100). */
  batchSizeMax: number;
  /**
   * Most bytes of ops in one batch (canonical JSON). The bound in force is the smaller of this and
   * what keeps a worst-case VIEW-CHANGE / NEW-VIEW within `bulkMessageBytesMax` (`batch-bytes.ts`).
   */
  batchBytesMax: number;
  /** Most ops waiting in the request pool; more are dropped (and counted). */
  poolSizeMax: number;
  /** A checkpoint every this many sequence numbers. */
  checkpointIntervalSeqs: number;
  /** High watermark = low watermark + this (a multiple of the checkpoint interval). */
  logWindowSeqs: number;
  /**
   * A backup's request timer (`timers.ts`): it runs while an op waits here and restarts whenever a
   * batch executes ops this node waited for. Its first expiry relays the waiting ops to the
   * primary; a second one, with still no progress, starts a view change. The primary runs none.
   * Scaled by the backoff (see `viewChangeTimeoutTicks`).
   */
  requestTimeoutTicks: number;
  /**
   * Progress restarts the request timer, but one op may wait at most this many request timeouts
   * (scaled alike) before the timer runs for it whatever executes meanwhile: a primary that keeps
   * executing other ops while it holds one back (censorship) is then suspected. Larger than the
   * queueing honest overload causes under backpressure.
   */
  requestAgeMaxFactor: number;
  /**
   * First wait for NEW-VIEW after 2f+1 VIEW-CHANGEs. The one backoff rule: leaving a view (other
   * than the first) that executed nothing doubles this wait and the request timeout alike; the
   * first execution in a view resets both.
   */
  viewChangeTimeoutTicks: number;
  /** Cap of the doubling. */
  viewChangeTimeoutTicksMax: number;
  /** While changing view, a node shares its waiting ops with every peer this often (ticks). */
  relayAfterTicks: number;
  /** Every node broadcasts STATUS this often; peers answer with what it is missing. */
  statusIntervalTicks: number;
  /**
   * Re-sending on evidence of loss: a peer's STATUSes show it lacks something of ours at least this
   * old (a vote of a slot, a committed batch, a share, a certificate, a checkpoint vote) and its
   * progress there has not moved for this long. Each further re-send of the same thing to the same
   * peer waits twice as long (up to `retransmitBackoffMax` doublings).
   */
  retransmitAfterTicks: number;
  /** Most doublings of the per-peer, per-slot re-send backoff. */
  retransmitBackoffMax: number;
  /**
   * The primary proposes a batch short of `batchSizeMax` (and of the byte bound) only while fewer
   * than this many of its batches are in flight (proposed, not executed); otherwise it waits for a
   * full batch or for a batch to execute, so that batches grow with load.
   */
  partialInFlightMax: number;
  /** Most batches in flight (proposed, not executed) at once; the log window bounds them too. */
  batchesInFlightMax: number;
  /** Most slots answered per STATUS (committed proofs, votes, shares, certificates). */
  retransmitSlotsMax: number;
  /** Most ops relayed to the primary in one message. */
  relayOpsMax: number;
  /** The primary's proposed time must be within this of a backup's own clock. */
  timeSkewMaxMs: number;
  /** Most executed-but-uncertified batches kept for their certificate. */
  uncertifiedMax: number;
  /**
   * A batch at or below the stable checkpoint still without a certificate here is given up once
   * f+1 peers report they are past it (so a correct node holds its certificate) and it has waited
   * at least this many ticks. Time alone never gives a batch up (see `timers.ts`).
   */
  uncertifiedGiveUpTicks: number;
  /** Most certificates kept to answer peers that missed them. */
  certificatesKeptMax: number;
  /** Most bytes of a protocol message (canonical JSON); STATE and VIEW-CHANGE use the larger bound. */
  messageBytesMax: number;
  /** Most bytes of a STATE (state transfer) or VIEW-CHANGE / NEW-VIEW message. */
  bulkMessageBytesMax: number;
  /** A node sends one STATE to a given peer at most this often (ticks). */
  stateTransferIntervalTicks: number;
  /** State transfer: records per chunk (a bigger subtree is split in two). */
  stateChunkRecordsMax: number;
  /**
   * State transfer: records per chunk asked for a subtree this node already has keys in (it
   * lacks only what changed there: smaller chunks, a few more splits, far fewer records sent).
   */
  stateChunkRecordsPatch: number;
  /** State transfer: canonical JSON bytes of records per chunk (one record alone may exceed it). */
  stateChunkBytesMax: number;
  /** State transfer: subtree paths asked for at once (one STATE-FETCH), and in flight. */
  stateFetchPathsMax: number;
  /**
   * Heartbeat: an idle primary (nothing pooled, every proposal executed) proposes an empty batch
   * once it has proposed nothing for this many ticks, so the cluster certifies a new `time` at
   * least this often even without ops (`heartbeat.ts`). 0: off.
   */
  heartbeatTicks: number;
  /**
   * The heartbeat runs only this many ticks after the last client activity the node heard of (an
   * op submitted, a replica asking for a beat: `activity` input), so a cluster nobody uses stops
   * certifying empty batches. 0: always (no activity needed).
   */
  heartbeatActivityTicks: number;
}

export const DEFAULT_PBFT_CONFIG: PbftConfig = {
  tickMs: 10,
  batchSizeMax: 100,
  batchBytesMax: 1024 * 1024,
  poolSizeMax: 10_000,
  checkpointIntervalSeqs: 16,
  logWindowSeqs: 64,
  requestTimeoutTicks: 200,
  viewChangeTimeoutTicks: 100,
  viewChangeTimeoutTicksMax: 6_400,
  relayAfterTicks: 50,
  statusIntervalTicks: 10,
  retransmitAfterTicks: 10,
  retransmitBackoffMax: 6,
  partialInFlightMax: 2,
  batchesInFlightMax: 16,
  retransmitSlotsMax: 32,
  relayOpsMax: 500,
  requestAgeMaxFactor: 8,
  timeSkewMaxMs: 30_000,
  uncertifiedMax: 1_024,
  uncertifiedGiveUpTicks: 3_000,
  certificatesKeptMax: 256,
  messageBytesMax: 2 * 1024 * 1024,
  bulkMessageBytesMax: 32 * 1024 * 1024,
  stateTransferIntervalTicks: 50,
  stateChunkRecordsMax: 512,
  stateChunkRecordsPatch: 8,
  stateChunkBytesMax: 1024 * 1024,
  stateFetchPathsMax: 16,
  heartbeatTicks: 0,
  heartbeatActivityTicks: 0,
};

/** Throws on a configuration no cluster can run with (a bug in the caller, not hostile input). */
export function checkConfig(cluster: ClusterConfig, cfg: PbftConfig): void {
  const n = cluster.nodes.length;
  const ok =
    Number.isInteger(cluster.f) &&
    cluster.f >= 1 &&
    n === 3 * cluster.f + 1 &&
    cfg.batchSizeMax >= 1 &&
    cfg.checkpointIntervalSeqs >= 1 &&
    cfg.logWindowSeqs >= 2 * cfg.checkpointIntervalSeqs &&
    cfg.logWindowSeqs % cfg.checkpointIntervalSeqs === 0 &&
    cfg.tickMs > 0 &&
    cfg.poolSizeMax >= cfg.batchSizeMax &&
    cfg.stateChunkRecordsMax >= 1 &&
    cfg.stateChunkRecordsPatch >= 1 &&
    cfg.stateChunkRecordsPatch <= cfg.stateChunkRecordsMax &&
    cfg.stateFetchPathsMax >= 1 &&
    cfg.stateChunkBytesMax <= cfg.bulkMessageBytesMax / 2 &&
    Number.isSafeInteger(cfg.heartbeatTicks) &&
    cfg.heartbeatTicks >= 0 &&
    Number.isSafeInteger(cfg.heartbeatActivityTicks) &&
    cfg.heartbeatActivityTicks >= 0 &&
    Number.isSafeInteger(cfg.requestAgeMaxFactor) &&
    cfg.requestAgeMaxFactor >= 2 &&
    cfg.requestAgeMaxFactor <= 1_000 &&
    Number.isSafeInteger(cfg.requestTimeoutTicks) &&
    cfg.requestTimeoutTicks >= 1 &&
    Number.isSafeInteger(cfg.retransmitAfterTicks) &&
    cfg.retransmitAfterTicks >= 1 &&
    Number.isInteger(cfg.retransmitBackoffMax) &&
    cfg.retransmitBackoffMax >= 0 &&
    cfg.retransmitBackoffMax <= 16 &&
    Number.isInteger(cfg.partialInFlightMax) &&
    cfg.partialInFlightMax >= 1 &&
    Number.isInteger(cfg.batchesInFlightMax) &&
    cfg.batchesInFlightMax >= cfg.partialInFlightMax &&
    // Any one valid op must fit in a batch, as batches are counted.
    batchBytesLimit(cfg, n) >= OP_BYTES_COUNTED_MAX;
  if (!ok) throw new Error(`pbft: invalid configuration (n=${n}, f=${cluster.f})`);
}

/** 2f+1: the quorum for prepared, committed, stable checkpoints, view changes and certificates. */
export const quorum = (f: number): number => 2 * f + 1;

/** The primary of a view. */
export const primaryOf = (view: number, n: number): number => view % n;
