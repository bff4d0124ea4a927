/**
 * When a replica may delete an op row (its op log is the outbox and the dedupe memory; see
 * docs/architecture.md, "Collecting the op log"). A row may go only when
 *   1. it is delivered: for this replica's own ops, every peer confirmed it (so no peer will ever
 *      ask for it again); for an op from another origin, this replica's cursor for that origin
 *      covers it (so a re-sent copy is recognised by position, without the row);
 *   2. it is certified (when the replicas run with their cluster, `certificationRequired`): an
 *      op not certified yet must stay, so that its origin can submit it again;
 *   3. it is past the dedupe horizon: its signed `ts` is older than `horizonMs` before both now and
 *      the last time this replica had caught up with every peer's log.
 * After a row is gone, `clients.collected_seq` (the highest collected seq of that client) answers
 * for it: an op of that client with no row and `seq ≤ collected_seq` is never applied again.
 * Condition 3 is what makes that safe for an honest client (seq and ts increasing): an op with a
 * smaller seq was accepted by its origin at most `TS_SKEW_MAX_MS` after its ts, which is before this
 * replica's last full catch-up with that origin, so it is already here. Pure.
 */
import { TS_SKEW_MAX_MS } from "../admission.js";
import { deliveredThrough } from "./resend.js";

/** Default dedupe horizon: twice the accepted client clock skew. */
export const DEDUPE_HORIZON_MS_DEFAULT = 2 * TS_SKEW_MAX_MS;

export interface GcInput {
  me: string;
  peers: readonly string[];
  /** Per peer: how far it confirmed this replica's own log. */
  acks: Readonly<Record<string, number>>;
  /** Per peer (as an origin): this replica's cursor for it and when it last caught up with its log. */
  cursors: Readonly<Record<string, { cursor: number; syncedAt: number }>>;
  nowMs: number;
  horizonMs: number;
  /** Rows go only once certified (the cluster runs: `CERTIFY` is not "off"). */
  certificationRequired: boolean;
}

/** Rows of `origin` with position ≤ `posMax`, op ts < `tsBefore` (and certified if required) may go. */
export interface GcBound {
  origin: string;
  posMax: number;
  tsBefore: number;
  certifiedOnly: boolean;
}

export function gcBounds(i: GcInput): GcBound[] {
  const synced = i.peers.reduce((m, p) => Math.min(m, i.cursors[p]?.syncedAt ?? 0), i.nowMs);
  if (synced <= 0) return []; // never caught up with some peer: nothing is known to be safe
  const tsBefore = Math.min(i.nowMs, synced) - Math.max(0, i.horizonMs);
  const bound = (origin: string, posMax: number): GcBound[] =>
    posMax > 0 ? [{ origin, posMax, tsBefore, certifiedOnly: i.certificationRequired }] : [];
  // with no peers every own op is delivered as soon as it is written
  const own = i.peers.length === 0 ? Number.MAX_SAFE_INTEGER : deliveredThrough(i.peers, i.acks);
  return [...bound(i.me, own), ...i.peers.flatMap((p) => bound(p, i.cursors[p]?.cursor ?? 0))];
}
