/**
 * Where an EC replica keeps what its decisions read and write (shared/replica/submit.ts,
 * shared/replica/apply.ts): the tentative state by key, the op log by op id, per-client seqs, marks
 * and the evidence against equivocating clients. Two implementations run one acceptance suite
 * (test/support/replica-acceptance.ts): the memory one beside it (plain Node, the simulator) and the
 * SQLite one of the EdgeReplica (durable-objects/storage/replica-store.ts). Every method is synchronous:
 * the core runs inside its host's one write transaction.
 */
import type { Json } from "../canonical.js";
import type { OpStatus, TypeName } from "../datatypes/index.js";
import type { Hlc } from "../hlc.js";
import type { KeyRecord, PendingEffect } from "../materialize.js";
import type { SignedOp } from "../ops.js";
import type { ReplicatedOp } from "../replication.js";

/** An op log row as the replies read it. */
export interface StoredOp {
  opId: string;
  origin: string;
  op: SignedOp;
  status: OpStatus;
  reason?: string;
  value: Json;
}

/** Evidence against a client: two ops it signed under one op id (both signatures verify). */
export interface ClientEvidence {
  opId: string;
  /** The version this replica holds. */
  kept: SignedOp;
  other: SignedOp;
  /** Replicas accepted both versions: this replica refuses the client's new ops. */
  refused: boolean;
  at: number;
}

export interface ReplicaStateStore {
  // --- tentative state (certified + the ops not certified yet) ---
  getRecord(key: string): KeyRecord | undefined;
  putRecord(key: string, rec: KeyRecord): void;
  deleteRecord(key: string): void;

  // --- the op log, one row per op id ---
  getOp(opId: string): StoredOp | undefined;
  hasOp(opId: string): boolean;
  /**
   * `pos`: the op's position in its origin's log (`nextOwnPos()` for own ops; null if unknown);
   * `certified`: the op is in the certified order already (its certificate came first).
   */
  insertOp(
    opId: string,
    origin: string,
    e: ReplicatedOp,
    value: Json,
    pos: number | null,
    certified?: boolean,
  ): void;
  /** Put another version of an op in its row (same row, origin and position: logs stay contiguous). */
  replaceOp(opId: string, e: ReplicatedOp, value: Json): void;
  /** The effect stored with an op (null: it changed nothing, or no such row). */
  getEffect(opId: string): unknown;
  /** The effects of `key`'s ops of `type` in the log but `opId` (only an equivocation asks). */
  /**
   * The effects of `key`'s ops not certified yet, in the op log's order, but `exceptOpId`'s: what
   * the tentative state holds beyond the certified record (rebuilding a key is `rebaseRecord`).
   */
  pendingEffects(key: string, exceptOpId?: string): PendingEffect[];
  isOpCertified(opId: string): boolean;
  /** One op's row as `ReplicatedOp` JSON text without a position (shared evidence, not a log entry). */
  entryOf(opId: string): string | undefined;
  /** Take the next position of this replica's own log. */
  nextOwnPos(): number;

  // --- per client ---
  clientMaxSeq(client: string): number;
  clientPending(client: string): number;
  /** Record that `client` used `seq`; `pendingDelta` counts ops accepted here awaiting certification. Returns the pending count after. */
  noteClientSeq(client: string, seq: number, pendingDelta: number): number;
  /** Highest seq of `client` whose op row was collected here (0: none). */
  collectedSeq(client: string): number;
  /**
   * Delete up to `limit` rows of `origin` with position ≤ `posMax` and op ts < `tsBefore` (certified
   * ones only if `certifiedOnly`), raise each affected client's collected seq, drop their superseded
   * marks. Returns the count.
   */
  collectOps(origin: string, posMax: number, tsBefore: number, certifiedOnly: boolean, limit: number): number;

  // --- register writes that lost on arrival (replies say so) ---
  markSuperseded(opId: string): void;
  unmarkSuperseded(opId: string): void;
  isSuperseded(opId: string): boolean;

  // --- evidence against equivocating clients ---
  /** `kept`: the version held; `refused`: replicas accepted both (replaces a `refused = false` record). */
  recordEvidence(kept: SignedOp, other: SignedOp, refused: boolean, atMs: number): void;
  /** Has this replica proof already that the op id's client equivocated (both versions accepted)? */
  isEquivocationKnown(opId: string): boolean;
  isClientRefused(client: string): boolean;
  /** Oldest first (the evidence reply reads it). */
  evidenceOf(client: string, limit: number): ClientEvidence[];

  /** Persist the hybrid logical clock (it must survive restarts: stamps only grow). */
  putClock(h: Hlc): void;
}
