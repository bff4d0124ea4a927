/**
 * Anti-entropy, the pull half of delivery, as I/O: each pull the delivery core asks for goes to its
 * peer (direct DO RPC, under a deadline), the page is parsed strictly (`parseLogPage`) and its
 * entries applied through the replica's one apply path, and what came of it goes back to the core,
 * which decides the next page (shared/delivery/receiver.ts). A lost or duplicated queue message
 * heals at the next pull; a hostile peer can only send what a well-formed page allows, and a peer
 * that never answers costs one deadline.
 */
import type { ReplicaConfig } from "../shared/config.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import type { Pull, PullAnswer } from "../shared/delivery/effects.js";
import { parseLogPage } from "../shared/replication.js";
import type { Env } from "../platform/env.js";
import { replicaStub } from "../platform/replica-stub.js";
import type { Step } from "./delivery-clock.js";

/** Applies entries from `origin`, parsed from peer text (the replica's own apply path), and reports each position. */
export type ApplyEntries = (
  origin: string,
  entries: readonly unknown[],
) => Promise<{ cursor: number; applied: number }>;

/** Every peer's pulls at once; true when some peer stopped at the page bound (more at once). */
export async function pullAll(
  env: Env,
  me: string,
  peers: readonly ReplicaConfig[],
  pulls: readonly Pull[],
  cx: { step: Step; apply: ApplyEntries },
): Promise<boolean> {
  const more = await Promise.all(
    pulls.map((p) => {
      const peer = peers.find((r) => r.name === p.peer);
      return peer ? pullFrom(env, me, peer, p, cx) : false;
    }),
  );
  return more.includes(true);
}

async function pullFrom(
  env: Env,
  me: string,
  peer: ReplicaConfig,
  first: Pull,
  cx: { step: Step; apply: ApplyEntries },
): Promise<boolean> {
  try {
    for (let pull: Pull | undefined = first; pull;) {
      const text = await withDeadline(
        replicaStub(env, peer).opsSince(peer.name, me, pull.after, pull.limit),
        PEER_DEADLINE_MS.replicaSmall,
        `opsSince at ${peer.name}`,
      );
      const parsed = parseLogPage(text);
      let answer: PullAnswer;
      if (!parsed.ok) answer = { ok: false, reason: parsed.reason };
      else {
        const { entries, head } = parsed.value;
        const applied = entries.length > 0 ? (await cx.apply(peer.name, entries)).applied : 0;
        answer = { ok: true, head, served: entries.length, applied };
      }
      const fx = cx.step({ kind: "pulled", pull, answer });
      if (fx.more) return true;
      pull = fx.pulls[0];
    }
    return false;
  } catch (e) {
    console.log({ event: "anti_entropy_failed", replica: me, peer: peer.name, error: String(e) });
    return false;
  }
}
