/**
 * The PBFT nodes as the edge reaches them: the nodes' Worker (`aspec-pbft`, workers/pbft/) through
 * the `PBFT` service binding to its `Nodes` entrypoint. Every call names its node; every answer is
 * a peer's (parsed where it is used), and every call has a deadline at its caller.
 */
import { CLUSTER_F, PBFT_NODES, type NodePlacement } from "../shared/cluster-config.js";
import { PEER_DEADLINE_MS, settleQuorum, withDeadline } from "../shared/deadline.js";
import { submitText } from "../shared/wire/node-calls.js";
import type { SignedOp } from "../shared/ops.js";
import type { NodesRpc } from "../shared/rpc/nodes.js";
import type { Env } from "./env.js";

/** Declared apart from the entrypoint's class to keep RPC type inference shallow. */
export const nodesOf = (env: Env): NodesRpc => env.PBFT as unknown as NodesRpc;

/**
 * Hand client ops to every PBFT node (each verifies and pools them; a node dedupes what it has
 * seen or executed), as one text. Settles once n − f nodes took them (a slow, silent or hanging node
 * can't hold the caller), or once that can't happen, or at the deadline. Per node, in `PBFT_NODES`
 * order: its answer, or why it failed (a `DeadlineError` for a node still working on it).
 *
 * The calls still running when it settles must still reach their nodes: the slowest is often the
 * busy primary, and a primary that never gets the ops learns of them only when a backup's request
 * timer relays them (2.5 s). A caller whose invocation ends once it has the answers (a queue
 * consumer) passes `keepAlive` (its `waitUntil`), which gets every call, each under the deadline.
 */
export function submitToNodes(
  env: Env,
  ops: readonly SignedOp[],
  keepAlive?: (calls: Promise<unknown>) => void,
) {
  const text = submitText(ops);
  const ms = PEER_DEADLINE_MS.nodeSubmit + ops.length * PEER_DEADLINE_MS.nodeSubmitPerOp;
  const what = "submit to a PBFT node";
  const calls = PBFT_NODES.map((n) => withDeadline(nodesOf(env).submit(n.id, text), ms, what));
  keepAlive?.(Promise.allSettled(calls));
  return settleQuorum(calls, PBFT_NODES.length - CLUSTER_F, ms, what);
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
