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
  /** The ops executed, in order: the proposed ones minus those executed before (dedupe by op id). */
  ops: SignedOp[];
  results: OpResult[];
  /** Merkle root of the whole certified key → value state after the batch. */
  stateRoot: Digest;
  /** Merkle root of this batch's results, in batch order. */
  resultsRoot: Digest;
}

/** A state the machine keeps readable for peers (a checkpoint's): its root, and where it is stored. */
export interface StateHandle {
  root: Digest;
  /** The root's id in the node store (0: the empty state). */
  node: number;
}

/** One record of the state as chunks carry it: `[key, type, state]`. */
export type ChunkRecord = [key: string, type: string, state: Json];

/**
 * A chunk of a checkpoint's state, for the subtree at a path: its two children's hashes (too big to
 * send whole) or every record below it. Verified against the subtree's hash before it is used.
 */
export type StateChunk = { split: [Digest, Digest] } | { records: ChunkRecord[] };

export interface ChunkLimits {
  /** Records per chunk (a subtree with more is split). */
  records: number;
  /** Canonical JSON bytes of the records per chunk (one record alone may exceed it). */
  bytes: number;
}

/** What checking a chunk against the hash expected at its path gives. */
export type ChunkCheck =
  | { ok: false; reason: string }
  /** Split: both child paths with their hashes (the empty hash for an empty half). */
  | { ok: true; children: [path: string, hash: Digest][] }
  | { ok: true; records: ChunkRecord[] };

/**
 * Deterministic: the same batches in the same order give the same roots everywhere. The state
 * lives in stores (memory, or a Durable Object's SQLite) and is versioned by batch seq: a state
 * named by `handle()` at version v stays readable (for peers' chunk requests) until `collect(v')`
 * with v' ≥ the version that replaced it.
 */
export interface CertifiedStateMachine {
  /** Execute one committed batch at `version` (its seq), ops in order; drops ops executed before. */
  execute(proposed: readonly SignedOp[], version: number): BatchExecution;
  hasExecuted(op: Pick<SignedOp, "client" | "seq">): boolean;
  stateRoot(): Digest;
  /** Name the current state (to serve it later as a checkpoint's). */
  handle(): StateHandle;
  /** Free what only states replaced at versions ≤ `through` still used. */
  collect(through: number): void;
  /** A chunk of the state `h` (at `version`) for the subtree at `path`. */
  serveChunk(h: StateHandle, version: number, path: string, limits: ChunkLimits): StateChunk;
  /** The current state's subtree hash at `path` (to reuse what this node already has). */
  hashAt(path: string): Digest;
  /** Check a peer's chunk for `path` against the hash expected there. Pure; never throws. */
  checkChunk(path: string, expected: Digest, chunk: StateChunk): ChunkCheck;
  /**
   * Replace the subtrees at the staged paths with the staged records, at `version`; the root
   * after. A key under a staged path that the staged records lack is removed (a `delete` since, or
   * a diverged state: either way the checkpoint's subtree is what counts). Null, nothing changed,
   * only if this state is unsound (a leaf whose record it lacks).
   */
  adopt(staged: readonly [path: string, records: ChunkRecord[]][], version: number): Digest | null;
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
  /**
   * The unclaimed namespaces anyone may write (`OPEN_NAMESPACES`: `["*"]` every one, sorted names,
   * or none): it decides certified results, so it is part of what nodes and replicas agree on.
   * Absent: `["*"]` (shared/namespaces/policy.ts).
   */
  openNamespaces?: readonly string[];
}
