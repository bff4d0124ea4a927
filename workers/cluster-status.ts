/**
 * `GET /v1/replicas` freshness (`replicaFreshness`, below) and `GET /v1/cluster/status`: each PBFT node's view, whether it is in normal operation, the last seq
 * it executed and its stable checkpoint, from the node's `status(id)` RPC; a node that does not
 * answer within `NODE_STATUS_TIMEOUT_MS` is `null`. `primary` is the node `view mod n` of the
 * view most answering nodes are in (ties: the higher view), `null` when none answers.
 */
import { PBFT_NODES } from "../shared/cluster-config.js";
import { withDeadline } from "../shared/deadline.js";
import type { Env } from "../platform/env.js";
import { nodesOf } from "../platform/pbft-node-stub.js";

export const NODE_STATUS_TIMEOUT_MS = 2_000;

export interface NodeStatusEntry {
  id: string;
  region: string;
  view: number;
  normal: boolean;
  lastExecuted: number;
  stableSeq: number;
  /** Whether this node is the primary of the majority view. */
  primary: boolean;
}

export interface ClusterStatusReply {
  n: number;
  /** The view most answering nodes are in; null when none answers. */
  view: number | null;
  /** The id of node `view mod n`; null when none answers. */
  primary: string | null;
  /** Per node id, in index order; null: the node did not answer in time. */
  nodes: Record<string, NodeStatusEntry | null>;
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** A node's answer is a peer's: only well-typed counts and flags are shown, else the node is `null`. */
async function statusOf(env: Env, node: (typeof PBFT_NODES)[number]) {
  const s = await withDeadline(nodesOf(env).status(node.id), NODE_STATUS_TIMEOUT_MS, "status");
  if (!isCount(s?.view) || !isCount(s.lastExecuted) || !isCount(s.stableSeq) || typeof s.normal !== "boolean")
    return null;
  return { view: s.view, normal: s.normal, lastExecuted: s.lastExecuted, stableSeq: s.stableSeq };
}

/** The view held by the most nodes (ties: the higher view); null for none. */
export function majorityView(views: readonly number[]): number | null {
  const counts = new Map<number, number>();
  for (const v of views) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | null = null;
  let bestCount = 0;
  for (const [v, c] of counts)
    if (c > bestCount || (c === bestCount && best !== null && v > best)) [best, bestCount] = [v, c];
  return best;
}

export async function clusterStatus(env: Env): Promise<ClusterStatusReply> {
  const answers = await Promise.all(PBFT_NODES.map((node) => statusOf(env, node).catch(() => null)));
  const n = PBFT_NODES.length;
  const view = majorityView(answers.flatMap((a) => (a ? [a.view] : [])));
  const primary = view === null ? null : PBFT_NODES[view % n]!.id;
  const nodes: Record<string, NodeStatusEntry | null> = {};
  PBFT_NODES.forEach((node, i) => {
    const a = answers[i];
    nodes[node.id] = a ? { id: node.id, region: node.region, ...a, primary: node.id === primary } : null;
  });
  return { n, view, primary, nodes };
}

/** `STALE_CERTIFICATE_MS` unset or not a positive integer: the SDK's default bound. */
export const STALE_CERTIFICATE_MS_DEFAULT = 10_000;

/** The bound a replica's newest certificate is judged stale by (ms). */
export function staleAfterMs(raw: string | undefined): number {
  const n = Number(raw);
  return raw !== undefined && Number.isSafeInteger(n) && n > 0 ? n : STALE_CERTIFICATE_MS_DEFAULT;
}

/** A replica's newest certificate as its `certifiedHead` tells it: seq (0: none) and `body.time`. */
export interface HeadSeen {
  seq: number;
  time: number | null;
}

export interface ReplicaFreshness {
  /** Its newest certified seq (0: none). */
  seq: number;
  /** That certificate's `body.time` (the cluster's clock); null: none. */
  certificateTime: number | null;
  /** `now` − `certificateTime` (ms); null: no certificate. */
  ageMs: number | null;
  /** Seqs behind the newest certificate any replica answered with. */
  behind: number;
  /**
   * Older than `staleAfterMs`, or no certificate while another replica has one: a client bounding
   * certificate age (the SDK does, by default the same 10 s) fails over from it.
   */
  stale: boolean;
}

/**
 * Each replica's freshness from its head (null: it did not answer, and stays null). Pure: `now` is
 * the edge's clock. The cluster certifies at least every ~2 s even when idle, so a certificate
 * older than the bound means this replica stopped receiving them, not that nothing happened.
 */
export function replicaFreshness(
  heads: readonly (HeadSeen | null)[],
  now: number,
  staleMs: number,
): (ReplicaFreshness | null)[] {
  const newest = Math.max(0, ...heads.map((h) => h?.seq ?? 0));
  return heads.map((h) => {
    if (!h) return null;
    const ageMs = h.time === null ? null : now - h.time;
    return {
      seq: h.seq,
      certificateTime: h.time,
      ageMs,
      behind: newest - h.seq,
      stale: ageMs === null ? newest > 0 : ageMs > staleMs,
    };
  });
}
