/**
 * The PBFT nodes as the edge reaches them: the nodes' Worker (`aspec-pbft`, workers/pbft/) through
 * the `PBFT` service binding to its `Nodes` entrypoint. Every call names its node; every answer is
 * a peer's (parsed where it is used), and every call has a deadline at its caller.
 */
import { CLUSTER_F, PBFT_NODES, type NodePlacement } from "../shared/cluster-config.js";
import { PEER_DEADLINE_MS, settleQuorum } from "../shared/deadline.js";
import { submitText } from "../shared/wire/node-calls.js";
import type { SignedOp } from "../shared/ops.js";
import type { NodeStatus, SubmitAnswer } from "../durable-objects/pbft-node.js";
import type { NodeFaults } from "../shared/pbft/dev-faults.js";
import type { Env } from "./env.js";

/** What the edge may ask of a node (the nodes' Worker's `Nodes` entrypoint implements it). */
export interface NodesRpc extends CertifiedBatchSource {
  submit(id: string, text: string): Promise<SubmitAnswer>;
  status(id: string): Promise<NodeStatus>;
  /** A reader's replica asks for a fresh certificate (rate-bounded at the node: durable-objects/pbft-node.ts). */
  beat(id: string): Promise<void>;
  /** Dev only (the node checks the token and the environment). */
  setFaults(id: string, token: string, faults: NodeFaults): Promise<void>;
}

/** Declared apart from the entrypoint's class to keep RPC type inference shallow. */
export const nodesOf = (env: Env): NodesRpc => env.PBFT as unknown as NodesRpc;

/**
 * Hand client ops to every PBFT node (each verifies and pools them; a node dedupes what it has
 * seen or executed), as one text. Settles once n − f nodes took them (a slow, silent or hanging node
 * can't hold the caller), or once that can't happen, or at the deadline. Per node, in `PBFT_NODES`
 * order: its answer, or why it failed (a `DeadlineError` for a node still working on it).
 */
export function submitToNodes(env: Env, ops: readonly SignedOp[]) {
  const text = submitText(ops);
  return settleQuorum(
    PBFT_NODES.map((n) => nodesOf(env).submit(n.id, text)),
    PBFT_NODES.length - CLUSTER_F,
    PEER_DEADLINE_MS.nodeSubmit + ops.length * PEER_DEADLINE_MS.nodeSubmitPerOp,
    "submit to a PBFT node",
  );
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


/** The newest seq `node` keeps a certified batch for (durable-objects/certified-sync.ts asks). */
export function certifiedHeadOf(env: Env, node: NodePlacement): Promise<number> {
  return nodesOf(env).certifiedHead(node.id);
}

/** Up to `max` of `node`'s kept certified batches from `fromSeq` on, as text (unverified: a node may lie). */
export function certifiedBatchesOf(
  env: Env,
  node: NodePlacement,
  fromSeq: number,
  max: number,
): Promise<string> {
  return nodesOf(env).certifiedBatches(node.id, fromSeq, max);
}

/** `node`'s transfer point, as its text (unparsed: durable-objects/certified-transfer.ts parses it). */
export function transferPointOf(env: Env, node: NodePlacement): Promise<string> {
  return nodesOf(env).transferPoint(node.id);
}

/** Chunks of `node`'s stable checkpoint state at `seq`, as its text (unparsed). */
export function stateChunksOf(
  env: Env,
  node: NodePlacement,
  seq: number,
  paths: string[],
  recordsMax: number,
): Promise<string> {
  return nodesOf(env).stateChunks(node.id, seq, paths, recordsMax);
}
