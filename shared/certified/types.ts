/**
 * The boundary between the PBFT core (`shared/pbft/`, which orders batches) and the certified
 * state machine (`shared/certified/`, which executes them and commits to the result).
 * Everything here is plain JSON so it can be persisted, sent and hashed canonically.
 */
import type { Json } from "../canonical.js";
import type { OpStatus } from "../datatypes/index.js";
import type { SignedOp } from "../ops.js";

/** Lowercase hex SHA-256 (64 characters). */
export type Digest = string & { readonly __brand?: "Digest" };

/** The outcome of one op in the certified order. */
export interface OpResult {
  opId: string;
  status: OpStatus;
  reason?: string;
  /** The key's value after the op. */
  value: Json;
}

export interface BatchExecution {
  results: OpResult[];
  /** Merkle root of the whole certified key → value state after the batch. */
  stateRoot: Digest;
  /** Merkle root of this batch's results, in batch order. */
  resultsRoot: Digest;
}

/** A serialisable copy of the certified state: what checkpoints digest and state transfer ships. */
export type StateSnapshot = Json;

/** Deterministic: the same batches in the same order give the same roots everywhere. */
export interface CertifiedStateMachine {
  /** Execute one committed batch, ops in order. The caller has already removed ops executed before. */
  execute(ops: readonly SignedOp[]): BatchExecution;
  stateRoot(): Digest;
  snapshot(): StateSnapshot;
}

export interface StateMachineFactory {
  create(snapshot?: StateSnapshot): CertifiedStateMachine;
}

/** What every node signs after executing sequence `seq` (docs/architecture.md). */
export interface CertificateBody {
  cluster: string;
  view: number;
  seq: number;
  /** H(logRoot_{seq-1} ‖ H(batch_seq)): the whole ordered history, hash-chained. */
  logRoot: Digest;
  stateRoot: Digest;
  resultsRoot: Digest;
  /** Total ops certified up to and including this seq. */
  opCount: number;
  /** ms since epoch, proposed by the primary and bounded by the backups. */
  time: number;
}

/** One node's signature over a certificate body. `node` is its index in the cluster config. */
export interface CertificateShare {
  node: number;
  body: CertificateBody;
  sig: string;
}

/** 2f+1 matching shares from distinct configured nodes. */
export interface Certificate {
  body: CertificateBody;
  sigs: { node: number; sig: string }[];
}

export interface ClusterConfig {
  cluster: string;
  /** Tolerated Byzantine nodes; n = nodes.length = 3f+1. */
  f: number;
  nodes: { id: string; publicKey: string }[];
}
