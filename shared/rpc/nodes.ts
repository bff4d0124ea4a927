/**
 * The PBFT nodes' RPC surface as the edge reaches it (the nodes' Worker's `Nodes` entrypoint,
 * workers/pbft/nodes.ts, through the `PBFT` service binding; platform/pbft-node-stub.ts calls it),
 * what its answers carry, and the bounds of the certified batches a node serves. Declared apart from
 * the classes to keep RPC type inference shallow; every answer is still a peer's, parsed where used.
 */
import type { FaultSettings } from "./fault-settings.js";

/** What the edge may ask of a node (the nodes' Worker's `Nodes` entrypoint implements it). */
export interface NodesRpc extends CertifiedBatchSource {
  submit(id: string, text: string): Promise<SubmitAnswer>;
  status(id: string): Promise<NodeStatus>;
  /** A reader's replica asks for a fresh certificate (rate-bounded at the node: durable-objects/pbft-node.ts). */
  beat(id: string): Promise<void>;
  /** Dev only (the node checks the token and the environment). */
  setFaults(id: string, token: string, faults: FaultSettings): Promise<void>;
}

/** Batches per `certifiedBatches` answer at most. */
export const CERTIFIED_BATCHES_MAX = 16;
/** Bytes (JSON text) per `certifiedBatches` answer at most, past its first batch (which always goes). */
export const CERTIFIED_BATCHES_BYTES_MAX = 1024 * 1024;

/**
 * What a node serves replicas that missed certified batches (PbftNode implements it; declared apart
 * to keep RPC type inference shallow, as `ReplicaRpc` is).
 */
export interface CertifiedBatchSource {
  certifiedHead(id: string): Promise<number>;
  /** The text of a JSON array of kept batches' wire texts (shared/wire/certified-batch.ts). */
  certifiedBatches(id: string, fromSeq: number, max: number): Promise<string>;
  /** Canonical JSON text (shared/certified/transfer-wire.ts): the stable checkpoint's certificate. */
  transferPoint(id: string): Promise<string>;
  /** Canonical JSON text: chunks of the stable checkpoint's state at `seq`. */
  stateChunks(id: string, seq: number, paths: string[], recordsMax: number): Promise<string>;
}

/**
 * A node's answer to `submit`: ops verified and handed to the pool (some may be duplicates it
 * dedupes), ops refused as invalid, and valid ops refused because its pool was full (`busy`: the
 * sender keeps them and submits them again later, slower).
 */
export interface SubmitAnswer {
  admitted: number;
  refused: number;
  busy: number;
}

/** What a node answers about itself (`GET /v1/cluster` shows it per node; tests read it). */
export interface NodeStatus {
  id: string;
  view: number;
  normal: boolean;
  lastExecuted: number;
  stableSeq: number;
  pool: number;
  uncertifiedFrom: number;
  /** Certificates this instance posted as the seq's poster (`seq mod n`). */
  certificatesPosted: number;
  /** Posts as the poster that failed, or were skipped with too many in flight (the fallback covers them). */
  postFailures: number;
  postsSkipped: number;
  /** Certificates this instance posted as the next node in line, after the delay. */
  fallbacksPosted: number;
  /** Fallback posts not sent because every replica had the seq already (the poster's copy landed). */
  fallbacksSkipped: number;
  /** Fallback posts waiting for their delay. */
  fallbacksPending: number;
  /** Dev fault modes switched on (always empty outside dev). */
  faults: FaultSettings;
  /** Certificate posts sent and not settled yet (as poster and as fallback). */
  postsInFlight: number;
  /** Alarm runs of this instance, those that threw (logged; re-armed all the same), and the last one's time. */
  alarms: number;
  alarmFailures: number;
  lastAlarmAt: number | null;
  sendFailures: number;
  stats: Record<string, number>;
}
