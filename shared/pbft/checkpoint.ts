/** Checkpoints, stable checkpoints (2f+1 matching), watermarks and log garbage collection. */
import { quorum } from "./config.js";
import { assert, broadcast, ckptKey, drop, markDirty, slotKey, STABLE_KEY, type Ctx } from "./context.js";
import { checkpointDigest, type CheckpointHeader } from "./digest.js";
import type { CheckpointMsg, Envelope } from "./messages.js";
import type { CheckpointEntry, OwnCheckpoint, ReplicaState } from "./state.js";
import { count } from "./stats.js";

function entryFor(s: ReplicaState, seq: number): CheckpointEntry {
  let e = s.checkpoints.get(seq);
  if (!e) s.checkpoints.set(seq, (e = { mine: null, votes: new Map() }));
  return e;
}

/** After executing a checkpoint seq: name the state, digest, broadcast CHECKPOINT. */
export function takeCheckpoint(ctx: Ctx): void {
  const s = ctx.s;
  const handle = s.sm.handle();
  const header: CheckpointHeader = {
    seq: s.lastExecuted,
    logRoot: s.logRoot,
    opCount: s.opCount,
    time: s.lastTime,
    stateRoot: handle.root,
  };
  const digest = checkpointDigest(header);
  entryFor(s, header.seq).mine = { digest, header, handle };
  markDirty(s, ckptKey(header.seq));
  broadcast(ctx, { type: "checkpoint", seq: header.seq, digest });
  tryStable(ctx, header.seq);
}

export function onCheckpoint(ctx: Ctx, env: Envelope<CheckpointMsg>): void {
  const s = ctx.s;
  const { seq } = env.msg;
  if (seq <= s.stable.seq) return drop(ctx, "stale_checkpoint");
  if (seq % s.cfg.checkpointIntervalSeqs !== 0) return drop(ctx, "bad_checkpoint_seq");
  addCheckpointVote(ctx, env);
  tryStable(ctx, seq);
}

/** Keep each sender's newest votes only, so a hostile sender cannot grow the table. */
function addCheckpointVote(ctx: Ctx, env: Envelope<CheckpointMsg>): void {
  const s = ctx.s;
  const e = entryFor(s, env.msg.seq);
  if (e.votes.has(env.from)) return drop(ctx, "duplicate");
  e.votes.set(env.from, env);
  const perSenderMax = s.cfg.logWindowSeqs / s.cfg.checkpointIntervalSeqs + 2;
  const mine = [...s.checkpoints.entries()].filter(([, c]) => c.votes.has(env.from)).map(([q]) => q);
  if (mine.length > perSenderMax) {
    mine.sort((a, b) => a - b);
    for (const q of mine.slice(0, mine.length - perSenderMax)) {
      const c = s.checkpoints.get(q)!;
      c.votes.delete(env.from);
      if (c.votes.size === 0 && !c.mine) s.checkpoints.delete(q);
    }
  }
}

/** Feed the votes of a stable-checkpoint proof learned elsewhere (a VIEW-CHANGE, a NEW-VIEW). */
export function learnCheckpointProof(ctx: Ctx, proof: readonly Envelope<CheckpointMsg>[]): void {
  for (const env of proof) {
    if (env.msg.seq <= ctx.s.stable.seq) return;
    const e = entryFor(ctx.s, env.msg.seq);
    if (!e.votes.has(env.from)) e.votes.set(env.from, env);
  }
  const first = proof[0];
  if (first) tryStable(ctx, first.msg.seq);
}

export function tryStable(ctx: Ctx, seq: number): void {
  const s = ctx.s;
  const e = s.checkpoints.get(seq);
  if (!e || seq <= s.stable.seq) return;
  const byDigest = new Map<string, Envelope<CheckpointMsg>[]>();
  for (const v of e.votes.values()) {
    const list = byDigest.get(v.msg.digest) ?? [];
    list.push(v);
    byDigest.set(v.msg.digest, list);
  }
  for (const [digest, votes] of byDigest) {
    if (votes.length < quorum(s.f)) continue;
    if (!e.mine) {
      // Stable elsewhere but not executed here: ask peers (they answer a STATUS behind their stable checkpoint with STATE).
      count(s.stats, "checkpoint.behind");
      s.lastStatusTick = -Infinity;
      return;
    }
    // 2f+1 signers of another state: more than f faults, or this node diverged. Peer input never
    // crashes a node; the disagreement is counted loudly and this node keeps its own state.
    if (e.mine.digest !== digest) return drop(ctx, "checkpoint_quorum_disagrees");
    votes.sort((a, b) => a.from - b.from);
    makeStable(ctx, seq, digest, votes.slice(0, quorum(s.f)), e.mine);
    return;
  }
}

/**
 * Advance the low watermark: the proof and state become the base; everything at or below is
 * collected, tree nodes and records only older states used included.
 */
export function makeStable(
  ctx: Ctx,
  seq: number,
  digest: string,
  proof: Envelope<CheckpointMsg>[],
  mine: OwnCheckpoint,
): void {
  const s = ctx.s;
  assert(seq > s.stable.seq && seq <= s.lastExecuted, "stable checkpoint beyond execution");
  s.stable = { seq, digest, proof };
  s.stableHeader = mine.header;
  s.stableHandle = mine.handle;
  markDirty(s, STABLE_KEY);
  s.sm.collect(seq);
  for (const q of s.slots.keys())
    if (q <= seq) {
      s.slots.delete(q);
      markDirty(s, slotKey(q));
    }
  for (const q of s.checkpoints.keys())
    if (q <= seq) {
      s.checkpoints.delete(q);
      markDirty(s, ckptKey(q));
    }
  count(s.stats, "checkpoint.stable");
  if (s.nextSeq <= seq) s.nextSeq = seq + 1;
}
