/**
 * Which of its own ops an origin re-sends through the queue. An op counts as delivered to a peer
 * only once that peer confirmed it (its cursor for this origin, reported by the queue consumer after
 * the peer applied a message, or by the peer's own anti-entropy pull). At each resend tick, the ops
 * sent before the previous tick and still unconfirmed by some peer go out again, to those peers only:
 * every op waits at least one resend period for its confirmation before it is re-sent.
 * Pure. See docs/architecture.md ("Delivery and anti-entropy").
 */

export interface ResendInput {
  /** The peers (every replica but this one). */
  peers: readonly string[];
  /** Per peer, the highest position of this origin's log it confirmed (absent: none). */
  acks: Readonly<Record<string, number>>;
  /** Highest position already sent through the queue at the previous resend tick. */
  sentAtLastTick: number;
  /** Ops per resend tick. */
  limit: number;
}

export interface ResendPlan {
  /** Re-send positions in `(after, through]`. */
  after: number;
  through: number;
  /** Only the peers that have not confirmed `through`. */
  targets: string[];
}

export const ackOf = (acks: Readonly<Record<string, number>>, peer: string): number => acks[peer] ?? 0;

/** Lowest position every peer confirmed: everything at or below it is delivered everywhere. */
export const deliveredThrough = (peers: readonly string[], acks: Readonly<Record<string, number>>): number =>
  peers.reduce((m, p) => Math.min(m, ackOf(acks, p)), Number.POSITIVE_INFINITY);

export function resendPlan(i: ResendInput): ResendPlan | null {
  if (i.peers.length === 0) return null;
  const after = deliveredThrough(i.peers, i.acks);
  if (after >= i.sentAtLastTick) return null;
  const through = Math.min(i.sentAtLastTick, after + Math.max(1, i.limit));
  const targets = i.peers.filter((p) => ackOf(i.acks, p) < through);
  return { after, through, targets };
}
