/**
 * The replica's explicit state. Everything the protocol decides on lives here, except the certified
 * state itself, which lives in the state machine's stores (`sm`) and is written in the same
 * transaction as the step's rows.
 */
import type {
  Certificate,
  CertificateBody,
  CertifiedStateMachine,
  ChunkRecord,
  ClusterConfig,
  Digest,
  StateHandle,
} from "../certified/types.js";
import type { SignedOp } from "../ops.js";
import type { PbftConfig } from "./config.js";
import type { CheckpointHeader } from "./digest.js";
import type { ExecutedBatch } from "./effects.js";
import type {
  CheckpointMsg,
  CheckpointProof,
  Commit,
  Envelope,
  NewView,
  PrePrepare,
  Prepare,
  PreparedCert,
  Proposal,
  Share,
  ViewChange,
} from "./messages.js";
import type { Stats } from "./stats.js";

/** One sequence number's agreement state, within the log window. */
export interface Slot {
  seq: number;
  /** The view whose votes `prepares`/`commits` hold. */
  view: number;
  /** The accepted proposal at `view` (null: none yet). */
  digest: Digest | null;
  proposal: Proposal | null;
  /** The primary's signed PRE-PREPARE (kept to re-send). */
  prePrepare: Envelope<PrePrepare> | null;
  /** Votes at `view`, one per sender, any digest. */
  prepares: Map<number, Envelope<Prepare>>;
  commits: Map<number, Envelope<Commit>>;
  /** The highest-view prepared certificate this node holds for the seq (survives view changes). */
  preparedCert: PreparedCert | null;
  /** 2f+1 matching COMMITs: the batch is committed (digest = commitProof[0].msg.digest). */
  commitProof: Envelope<Commit>[] | null;
  /** Proposal of the committed digest (may come from an older view than `proposal`). */
  committedProposal: Proposal | null;
  sentCommit: boolean;
  /** Tick of the last change (retransmission waits for slots to age). */
  sinceTick: number;
}

export interface PoolEntry {
  op: SignedOp;
  sinceTick: number;
  /** The view in which a backup last relayed it to the primary (-1: never). */
  relayedView: number;
}

/** This node's own checkpoint at a seq: what it committed to and where its state is kept. */
export interface OwnCheckpoint {
  digest: Digest;
  header: CheckpointHeader;
  handle: StateHandle;
}

export interface CheckpointEntry {
  /** This node's own checkpoint at the seq, once executed. */
  mine: OwnCheckpoint | null;
  votes: Map<number, Envelope<CheckpointMsg>>;
}

export interface ExecRecord extends ExecutedBatch {
  /** This node's signed share, once it came back from the shell. */
  share: Envelope<Share> | null;
  sinceTick: number;
}

/**
 * A seq this node skipped by adopting a checkpoint and still signs for (see `endorse.ts`): the
 * body it endorsed once f+1 peers' shares matched, and its share over it once signed.
 */
export interface SkippedSeq {
  body: CertificateBody | null;
  share: Envelope<Share> | null;
  sinceTick: number;
}

/**
 * A state transfer in progress: the stable checkpoint being fetched, the subtrees still wanted
 * (path → hash its parent committed to), the ones this node already has (checked again before
 * adopting), and the verified records fetched so far (by path). Persisted: resumes after a restart.
 */
export interface Transfer {
  checkpoint: CheckpointProof;
  header: CheckpointHeader;
  pending: Map<string, Digest>;
  reused: Map<string, Digest>;
  fetched: Map<string, ChunkRecord[]>;
  /** path → tick it was last asked for. */
  asked: Map<string, number>;
  /** The peer asked now; another is tried when it answers nothing or something wrong. */
  source: number;
  /** Tick of the last verified chunk (or of the start). */
  progressTick: number;
}

export interface ReplicaState {
  readonly cluster: ClusterConfig;
  /** `clusterId(cluster)`: what every certificate body of this configuration names (computed once). */
  readonly clusterId: string;
  readonly cfg: PbftConfig;
  readonly me: number;
  readonly n: number;
  readonly f: number;
  /** The digest of the empty state at seq 0 (the genesis checkpoint). */
  readonly genesisDigest: Digest;

  // --- clock
  /** false until the first tick after construction or restore. */
  started: boolean;
  tick: number;
  clockMs: number;
  lastStatusTick: number;
  /** Last time waiting ops were sent to every peer during a view change. */
  lastOpsBroadcastTick: number;
  /** Tick of this node's last proposal as primary (or of its first tick): the heartbeat counts from it. */
  lastProposalTick: number;
  /**
   * The heartbeat runs before this tick (client activity plus `heartbeatActivityTicks`). In memory
   * only: a restarted node beats again at the next activity.
   */
  beatUntilTick: number;
  /** Tick a batch last executed ops this node's pool held (progress: the request timer restarts). */
  lastProgressTick: number;
  /** Tick of the request timer's first expiry, its relay (-Infinity: none yet). See `timers.ts`. */
  requestRelayTick: number;

  // --- view
  view: number;
  /** false while changing view (waiting for NEW-VIEW for `view`). */
  normal: boolean;
  viewStartTick: number;
  viewChangeTimeoutTicks: number;
  /** When waiting for NEW-VIEW gives up (set once 2f+1 VIEW-CHANGEs for `view` are in). */
  viewChangeDeadlineTick: number | null;
  /** Each sender's highest-view VIEW-CHANGE. */
  viewChanges: Map<number, Envelope<ViewChange>>;
  /** The NEW-VIEW that installed `view` (null for view 0). */
  newView: Envelope<NewView> | null;
  /** Primary only: next seq to propose. */
  nextSeq: number;
  /** Something executed in this view (resets the view-change backoff). */
  executedInView: boolean;

  // --- log
  slots: Map<number, Slot>;
  pool: Map<string, PoolEntry>;
  /** Op ids in accepted, not yet executed proposals of this view. */
  inFlight: Set<string>;
  /** Pool op ids not in flight, oldest first: what the primary proposes next. */
  unproposed: Set<string>;

  // --- execution
  sm: CertifiedStateMachine;
  lastExecuted: number;
  logRoot: Digest;
  opCount: number;
  lastTime: number;

  // --- checkpoints
  stable: CheckpointProof;
  stableHeader: CheckpointHeader;
  /** Where the stable checkpoint's state is kept (served to peers that fetch it). */
  stableHandle: StateHandle;
  transfer: Transfer | null;
  checkpoints: Map<number, CheckpointEntry>;

  // --- certificates
  uncertified: Map<number, ExecRecord>;
  /** Seqs skipped by state transfer, not yet certified here, that this node still signs for. */
  skipped: Map<number, SkippedSeq>;
  /** Shares from everyone for seqs not yet certified here, by seq then sender. */
  shares: Map<number, Map<number, Envelope<Share>>>;
  certificates: Map<number, Certificate>;
  /** Lowest executed (or skipped) seq still waiting for a certificate here. */
  uncertifiedFrom: number;
  /** Each peer's `uncertifiedFrom` from its last STATUS (what the give-up rule counts). */
  peerUncertifiedFrom: Map<number, number>;

  // --- peers
  lastStateSentTick: Map<number, number>;
  /**
   * What was re-sent to each peer on evidence of loss (`state-transfer.ts`): by peer, then by what
   * (kind and seq), the tick of the last re-send (or of the first evidence) and the re-sends so far.
   * Volatile and bounded per peer.
   */
  resent: Map<number, Map<string, { at: number; n: number; seq: number }>>;
  /**
   * Each peer's progress from its STATUSes, and since when each part has not moved (ticks): a peer
   * that stalls lacking what we sent is the evidence of loss that re-sends wait for. Volatile.
   */
  peerProgress: Map<
    number,
    {
      lastExecuted: number;
      uncertifiedFrom: number;
      stableSeq: number;
      exec: number;
      cert: number;
      stable: number;
    }
  >;
  /** Tick each peer's last STATE-FETCH was served (one per peer per tick). */
  lastFetchServedTick: Map<number, number>;

  stats: Stats;
  /** Keys of `persist` rows changed during the current step. */
  dirty: Set<string>;
}
