/**
 * Anti-entropy, the pull half of delivery: ask each peer (direct DO RPC, under a deadline) for its
 * own ops after this replica's cursor for it, in bounded pages, and apply them through the
 * replica's one apply path. A lost or duplicated queue message heals at the next pull; a peer's
 * page crosses as text and is parsed strictly (`parseLogPage`), so a hostile peer can only send
 * what a well-formed page allows, and a peer that never answers costs one deadline.
 */
import type { ReplicaConfig } from "../shared/config.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import { ANTI_ENTROPY_PAGE_MAX, ANTI_ENTROPY_PAGES_MAX } from "../shared/delivery/settings.js";
import { parseLogPage } from "../shared/replication.js";
import type { Env } from "../platform/env.js";
import { replicaStub } from "../platform/replica-stub.js";
import type { DeliveryStore } from "./delivery-store.js";

/** Applies entries from `origin`, parsed from peer text (the replica's own apply path), and reports each position. */
export type ApplyEntries = (
  origin: string,
  entries: readonly unknown[],
) => Promise<{ cursor: number; applied: number }>;

export interface PullContext {
  readonly env: Env;
  readonly me: string;
  readonly book: DeliveryStore;
  readonly apply: ApplyEntries;
  /** Called when a peer had ops for this replica (traffic: not idle). */
  readonly onWork: () => void;
}

/** Pull from every peer at once; true when some peer stopped at the page bound (more at once). */
export async function pullFromPeers(cx: PullContext, peers: readonly ReplicaConfig[]): Promise<boolean> {
  const more = await Promise.all(peers.map((peer) => pullFrom(cx, peer)));
  return more.includes(true);
}

async function pullFrom(cx: PullContext, peer: ReplicaConfig): Promise<boolean> {
  const { me, book } = cx;
  try {
    const started = Date.now();
    for (let page = 0; page < ANTI_ENTROPY_PAGES_MAX; page++) {
      const cursor = book.cursor(peer.name).cursor;
      const text = await withDeadline(
        replicaStub(cx.env, peer).opsSince(peer.name, me, cursor, ANTI_ENTROPY_PAGE_MAX),
        PEER_DEADLINE_MS.replicaSmall,
        `opsSince at ${peer.name}`,
      );
      const parsed = parseLogPage(text);
      if (!parsed.ok) {
        console.log({ event: "anti_entropy_malformed", replica: me, peer: peer.name, reason: parsed.reason });
        return false;
      }
      const got = parsed.value;
      if (got.head > cursor) cx.onWork(); // the peer's head is past our cursor: it has ops for us
      let after = cursor;
      if (got.entries.length > 0) {
        const r = await cx.apply(peer.name, got.entries);
        after = r.cursor;
        // ops the queue had not brought: what anti-entropy repaired
        if (r.applied > 0)
          console.log({ event: "anti_entropy_applied", replica: me, origin: peer.name, applied: r.applied });
      }
      if (after >= got.head) {
        const c = book.cursor(peer.name);
        book.putCursor(peer.name, { ...c, syncedAt: Math.max(c.syncedAt, started) });
        return false;
      }
      if (after === cursor && got.entries.length === 0) return false; // nothing served (hostile or collected)
    }
    return true;
  } catch (e) {
    console.log({ event: "anti_entropy_failed", replica: me, peer: peer.name, error: String(e) });
    return false;
  }
}
