/**
 * Certificate shares for seqs this node skipped by adopting a checkpoint (state transfer).
 *
 * It never executed them, so it cannot compute their roots itself. But f+1 matching shares from
 * distinct peers include at least one from a correct node, and a correct node signs only the true
 * result of the committed batch: so this node may sign that body too. Without this, one node that
 * orders and checkpoints but withholds its shares, plus one correct node that caught up by STATE,
 * leave fewer than 2f+1 signers for the skipped seqs, for ever. This node only adds its signature:
 * the nodes that executed the batch combine the certificate and publish it with the batch.
 */
import { countByBody, sameCertificateBody } from "../certified/certificate.js";
import type { CertificateBody } from "../certified/types.js";
import { broadcast, markDirty, skipKey, type Ctx } from "./context.js";
import type { Envelope, Share } from "./messages.js";
import type { ReplicaState } from "./state.js";
import { count } from "./stats.js";

/** Track the seqs in (`from`, `to`] skipped by adopting the checkpoint at `to` (the newest `uncertifiedMax`). */
export function noteSkipped(ctx: Ctx, from: number, to: number): void {
  const s = ctx.s;
  const added: number[] = [];
  for (let seq = Math.max(from, to - s.cfg.uncertifiedMax) + 1; seq <= to; seq++) {
    if (s.certificates.has(seq) || s.skipped.has(seq)) continue;
    s.skipped.set(seq, { body: null, share: null, sinceTick: s.tick });
    markDirty(s, skipKey(seq));
    added.push(seq);
  }
  while (s.skipped.size > s.cfg.uncertifiedMax) {
    const oldest = s.skipped.keys().next().value as number;
    forgetSkipped(s, oldest);
    count(s.stats, "skipped_evicted");
  }
  // Shares that arrived while this node was behind (kept for seqs it had not executed yet).
  for (const seq of added) if (s.skipped.has(seq) && s.shares.has(seq)) tryEndorse(ctx, seq);
}

export function forgetSkipped(s: ReplicaState, seq: number): void {
  s.skipped.delete(seq);
  s.shares.delete(seq);
  markDirty(s, skipKey(seq));
}

/** A verified share for a skipped seq (`onShare` stored it already): ours comes back, or endorse. */
export function onSkippedShare(ctx: Ctx, env: Envelope<Share>): void {
  const s = ctx.s;
  const seq = env.msg.body.seq;
  const entry = s.skipped.get(seq)!;
  if (env.from === s.me) {
    if (entry.body && sameCertificateBody(entry.body, env.msg.body)) {
      entry.share = env;
      markDirty(s, skipKey(seq));
    }
    return;
  }
  tryEndorse(ctx, seq);
}

/** Sign the body f+1 distinct peers' shares agree on, once per seq. */
function tryEndorse(ctx: Ctx, seq: number): void {
  const s = ctx.s;
  const entry = s.skipped.get(seq)!;
  if (entry.body) return; // signed once; never a second body for one seq
  const bySender = s.shares.get(seq);
  if (!bySender) return;
  const peers: CertificateBody[] = [];
  for (const e of bySender.values()) if (e.from !== s.me) peers.push(e.msg.body);
  const agreed = countByBody(peers).find((g) => g.n >= s.f + 1);
  if (!agreed) return;
  entry.body = agreed.body;
  markDirty(s, skipKey(seq));
  count(s.stats, "share.endorsed");
  broadcast(ctx, { type: "share", body: agreed.body });
}
