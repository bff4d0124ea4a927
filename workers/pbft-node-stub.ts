/** The stub of a PBFT node's Durable Object, created in its region (`locationHint`). */
import { CLUSTER_F, PBFT_NODES, type NodePlacement } from "../shared/cluster-config.js";
import { PEER_DEADLINE_MS, settleQuorum } from "../shared/deadline.js";
import { submitText } from "../shared/wire/node-calls.js";
import type { SignedOp } from "../shared/ops.js";
import type { Env } from "./env.js";

const ids = new WeakMap<object, Map<string, DurableObjectId>>();

export function pbftNodeStub(env: Env, node: NodePlacement) {
  const ns = env.PBFT_NODE;
  let byName = ids.get(ns);
  if (!byName) ids.set(ns, (byName = new Map()));
  let id = byName.get(node.id);
  if (!id) byName.set(node.id, (id = ns.idFromName(node.id)));
  return ns.get(id, { locationHint: node.region as DurableObjectLocationHint });
}

/**
 * Hand client ops to every PBFT node (each verifies and pools them; a node dedupes what it has
 * seen or executed), as one text. Settles once n − f nodes took them (a slow, silent or hanging node
 * can't hold the caller), or once that can't happen, or at the deadline. Per node, in `PBFT_NODES`
 * order: its answer, or why it failed (a `DeadlineError` for a node still working on it).
 */
export function submitToNodes(env: Env, ops: readonly SignedOp[]) {
  const text = submitText(ops);
  return settleQuorum(
    PBFT_NODES.map((n) => pbftNodeStub(env, n).submit(n.id, text)),
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

const sourceOf = (env: Env, node: NodePlacement) =>
  pbftNodeStub(env, node) as unknown as CertifiedBatchSource;

/** The newest seq `node` keeps a certified batch for (durable-objects/certified-sync.ts asks). */
export function certifiedHeadOf(env: Env, node: NodePlacement): Promise<number> {
  return sourceOf(env, node).certifiedHead(node.id);
}

/** Up to `max` of `node`'s kept certified batches from `fromSeq` on, as text (unverified: a node may lie). */
export function certifiedBatchesOf(
  env: Env,
  node: NodePlacement,
  fromSeq: number,
  max: number,
): Promise<string> {
  return sourceOf(env, node).certifiedBatches(node.id, fromSeq, max);
}

/** `node`'s transfer point, as its text (unparsed: durable-objects/certified-transfer.ts parses it). */
export function transferPointOf(env: Env, node: NodePlacement): Promise<string> {
  return sourceOf(env, node).transferPoint(node.id);
}

/** Chunks of `node`'s stable checkpoint state at `seq`, as its text (unparsed). */
export function stateChunksOf(
  env: Env,
  node: NodePlacement,
  seq: number,
  paths: string[],
  recordsMax: number,
): Promise<string> {
  return sourceOf(env, node).stateChunks(node.id, seq, paths, recordsMax);
}
