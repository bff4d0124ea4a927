/** The normal case: the request pool, proposing batches, PRE-PREPARE, PREPARE, COMMIT. */
import type { SignedOp } from "../ops.js";
import { opIdOf } from "../ops.js";
import { primaryOf, quorum } from "./config.js";
import {
  broadcast,
  drop,
  inWindow,
  isPrimary,
  highWatermark,
  markDirty,
  poolKey,
  resetSlotView,
  slotFor,
  slotKey,
  type Ctx,
} from "./context.js";
import { noteActivity } from "./activity.js";
import { batchBytes, batchBytesLimit, opBytes } from "./batch-bytes.js";
import { proposalDigest } from "./digest.js";
import type { Commit, Committed, Envelope, Ops, PrePrepare, Prepare, Proposal } from "./messages.js";
import type { ReplicaState, Slot } from "./state.js";
import { count } from "./stats.js";

/** A client op, already verified by the shell. Deduplicated by op id against the pool and the executed set. */
export function onSubmit(ctx: Ctx, op: SignedOp): void {
  noteActivity(ctx.s);
  pool(ctx, op);
}

/**
 * Several client ops in one step (one request, one persist transaction): pooled in order, then
 * proposed as onSubmit one by one would (full batches, in arrival order).
 */
export function onSubmitMany(ctx: Ctx, ops: readonly SignedOp[]): void {
  if (ops.length > 0) noteActivity(ctx.s);
  for (const op of ops) pool(ctx, op);
}

/** Add a verified op to the pool; false if dropped (executed, duplicate, pool full). */
function pool(ctx: Ctx, op: SignedOp): boolean {
  const s = ctx.s;
  const id = opIdOf(op);
  if (s.sm.hasExecuted(op)) return (drop(ctx, "op_already_executed"), false);
  if (s.pool.has(id)) return (drop(ctx, "op_duplicate"), false);
  if (s.pool.size >= s.cfg.poolSizeMax) {
    ctx.fx.poolFull = (ctx.fx.poolFull ?? 0) + 1;
    return (drop(ctx, "pool_full"), false);
  }
  s.pool.set(id, { op, sinceTick: s.tick, relayedView: -1 });
  if (!s.inFlight.has(id)) s.unproposed.add(id);
  markDirty(s, poolKey(id));
  count(s.stats, "op.accepted");
  return true;
}

/** Relayed ops from a backup: the same as submitted ones. */
export function onOps(ctx: Ctx, env: Envelope<Ops>): void {
  onSubmitMany(ctx, env.msg.ops);
}

/** The primary's batches in flight: proposed (or re-proposed by a NEW-VIEW), not executed. */
export const batchesInFlight = (s: ReplicaState): number => s.nextSeq - 1 - s.lastExecuted;

/**
 * The primary proposes while the window has room and fewer than `batchesInFlightMax` of its
 * batches are in flight: full batches (`batchSizeMax` ops, or as many as the byte bound takes) at
 * once; a partial batch only when `partial` (on a tick, a new view) and fewer than
 * `partialInFlightMax` batches are in flight. Under load the pool outgrows what is in flight and
 * batches fill up, so the per-batch costs are shared by more ops (BFT-SMaRt's batching).
 */
export function maybePropose(ctx: Ctx, partial: boolean): void {
  const s = ctx.s;
  if (!s.normal || !isPrimary(s)) return;
  const bytesMax = batchBytesLimit(s.cfg, s.n);
  while (
    s.nextSeq <= highWatermark(s) &&
    s.unproposed.size > 0 &&
    batchesInFlight(s) < s.cfg.batchesInFlightMax
  ) {
    const ids: string[] = [];
    const ops: SignedOp[] = [];
    let bytes = 0;
    let full = false;
    for (const id of s.unproposed) {
      const e = s.pool.get(id);
      if (!e || s.inFlight.has(id)) {
        s.unproposed.delete(id);
        continue;
      }
      const b = opBytes(e.op);
      if (ops.length > 0 && bytes + b > bytesMax) {
        full = true; // stays first in line for the next batch
        break;
      }
      ids.push(id);
      ops.push(e.op);
      bytes += b;
      if (ops.length >= s.cfg.batchSizeMax) {
        full = true;
        break;
      }
    }
    if (ops.length === 0) return;
    if (!full && !(partial && batchesInFlight(s) < s.cfg.partialInFlightMax)) return;
    for (const id of ids) s.unproposed.delete(id);
    count(s.stats, "batch.ops", ops.length);
    count(s.stats, full ? "batch.full" : "batch.partial");
    propose(ctx, { ops, time: Math.max(s.clockMs, s.lastTime), view: s.view });
  }
}

/** Propose the next seq (the primary only; the caller checked the window). */
export function propose(ctx: Ctx, proposal: Proposal): void {
  const s = ctx.s;
  const seq = s.nextSeq++;
  s.lastProposalTick = s.tick;
  const slot = slotFor(s, seq);
  if (slot.view !== s.view) resetSlotView(s, slot, s.view);
  const digest = proposalDigest(proposal);
  acceptProposal(ctx, slot, digest, proposal);
  broadcast(ctx, { type: "pre-prepare", view: s.view, seq, digest }, proposal);
  count(s.stats, "batch.proposed");
}

/** Take a proposal into a slot and vote for it (the primary votes too: a prepared certificate is 2f+1 PREPAREs). */
export function acceptProposal(ctx: Ctx, slot: Slot, digest: string, proposal: Proposal): void {
  const s = ctx.s;
  slot.digest = digest;
  slot.proposal = proposal;
  slot.sinceTick = s.tick;
  if (slot.seq > s.lastExecuted) {
    for (const op of proposal.ops) {
      const id = opIdOf(op);
      s.inFlight.add(id);
      s.unproposed.delete(id);
    }
  }
  markDirty(s, slotKey(slot.seq));
  broadcast(ctx, { type: "prepare", view: slot.view, seq: slot.seq, digest });
  tryPrepared(ctx, slot);
}

/** Common checks of a vote-like message in the current view. Returns the slot, or null (dropped). */
function voteSlot(ctx: Ctx, m: { view: number; seq: number }): Slot | null {
  const s = ctx.s;
  if (m.view < s.view) return (drop(ctx, "stale_view"), null);
  if (m.view > s.view) return (drop(ctx, "future_view"), null);
  if (!inWindow(s, m.seq)) return (drop(ctx, "out_of_window"), null);
  const slot = slotFor(s, m.seq);
  if (slot.view < s.view) resetSlotView(s, slot, s.view);
  return slot;
}

export function onPrePrepare(ctx: Ctx, env: Envelope<PrePrepare>): void {
  const s = ctx.s;
  const m = env.msg;
  if (!s.normal) return drop(ctx, "not_normal");
  if (env.from !== primaryOf(m.view, s.n)) return drop(ctx, "pre_prepare_not_from_primary");
  const proposal = env.proposal;
  if (!proposal) return drop(ctx, "missing_proposal");
  const slot = voteSlot(ctx, m);
  if (!slot) return;
  if (slot.digest !== null) {
    if (slot.digest !== m.digest) return drop(ctx, "equivocation");
    if (!slot.prePrepare) slot.prePrepare = env; // our own, looped back
    return;
  }
  if (proposal.view !== m.view) return drop(ctx, "bad_proposal_view");
  if (Math.abs(proposal.time - s.clockMs) > s.cfg.timeSkewMaxMs) return drop(ctx, "time_out_of_bound");
  if (proposalDigest(proposal) !== m.digest) return drop(ctx, "bad_digest");
  if (batchBytes(proposal.ops) > batchBytesLimit(s.cfg, s.n)) return drop(ctx, "batch_too_large");
  slot.prePrepare = env;
  acceptProposal(ctx, slot, m.digest, proposal);
}

export function onPrepare(ctx: Ctx, env: Envelope<Prepare>): void {
  const slot = voteSlot(ctx, env.msg);
  if (!slot) return;
  const prev = slot.prepares.get(env.from);
  if (prev) return drop(ctx, prev.msg.digest === env.msg.digest ? "duplicate" : "equivocation");
  slot.prepares.set(env.from, env);
  tryPrepared(ctx, slot);
}

export function onCommit(ctx: Ctx, env: Envelope<Commit>): void {
  const slot = voteSlot(ctx, env.msg);
  if (!slot) return;
  const prev = slot.commits.get(env.from);
  if (prev) return drop(ctx, prev.msg.digest === env.msg.digest ? "duplicate" : "equivocation");
  slot.commits.set(env.from, env);
  tryCommitted(ctx, slot);
}

function matching<M extends Prepare | Commit>(
  votes: Map<number, Envelope<M>>,
  digest: string,
): Envelope<M>[] {
  const out: Envelope<M>[] = [];
  for (const e of votes.values()) if (e.msg.digest === digest) out.push(e);
  return out.sort((a, b) => a.from - b.from);
}

/** Prepared: the proposal plus 2f+1 matching PREPAREs. Then COMMIT. */
export function tryPrepared(ctx: Ctx, slot: Slot): void {
  const s = ctx.s;
  if (!s.normal || slot.digest === null || !slot.proposal || slot.sentCommit) return;
  const votes = matching(slot.prepares, slot.digest);
  if (votes.length < quorum(s.f)) return;
  slot.preparedCert = {
    seq: slot.seq,
    view: slot.view,
    digest: slot.digest,
    proposal: slot.proposal,
    prepares: votes.slice(0, quorum(s.f)),
  };
  slot.sentCommit = true;
  slot.sinceTick = s.tick;
  markDirty(s, slotKey(slot.seq));
  broadcast(ctx, { type: "commit", view: slot.view, seq: slot.seq, digest: slot.digest });
  tryCommitted(ctx, slot);
}

/** Committed: 2f+1 matching COMMITs for the proposal held (so f+1 correct nodes prepared it). */
export function tryCommitted(ctx: Ctx, slot: Slot): void {
  const s = ctx.s;
  if (slot.commitProof || slot.digest === null || !slot.proposal) return;
  const votes = matching(slot.commits, slot.digest);
  if (votes.length < quorum(s.f)) return;
  slot.commitProof = votes.slice(0, quorum(s.f));
  slot.committedProposal = slot.proposal;
  slot.sinceTick = s.tick;
  markDirty(s, slotKey(slot.seq));
  count(s.stats, "batch.committed");
}

/** A committed batch sent to a node that fell behind; self-certifying (2f+1 COMMITs). */
export function onCommitted(ctx: Ctx, env: Envelope<Committed>): void {
  const s = ctx.s;
  const m = env.msg;
  const proposal = env.proposal;
  if (!proposal) return drop(ctx, "missing_proposal");
  if (m.seq <= s.lastExecuted) return drop(ctx, "stale_committed");
  if (!inWindow(s, m.seq)) return drop(ctx, "out_of_window");
  const existing = s.slots.get(m.seq);
  if (existing?.commitProof) return drop(ctx, "duplicate");
  const first = m.commits[0];
  if (!first) return drop(ctx, "bad_committed");
  const { view, digest } = first.msg;
  const from = new Set<number>();
  for (const c of m.commits) {
    if (c.msg.seq !== m.seq || c.msg.view !== view || c.msg.digest !== digest)
      return drop(ctx, "bad_committed");
    from.add(c.from);
  }
  if (from.size < quorum(s.f) || from.size !== m.commits.length) return drop(ctx, "bad_committed");
  if (proposalDigest(proposal) !== digest) return drop(ctx, "bad_digest");
  const slot = slotFor(s, m.seq);
  slot.commitProof = m.commits;
  slot.committedProposal = proposal;
  slot.sinceTick = s.tick;
  markDirty(s, slotKey(m.seq));
  count(s.stats, "batch.caught_up");
}

/**
 * Would the core ignore this peer's vote without a change that matters? A PREPARE for a slot this
 * node already prepared (and sent COMMIT for) in the current view, or a COMMIT for a slot already
 * committed in it: both would only be stored beside a quorum that is complete. The shell may drop
 * such a message before verifying its signature (as if it were lost, which PBFT tolerates).
 */
export function isRedundantVote(s: ReplicaState, env: Envelope<Prepare | Commit>): boolean {
  const m = env.msg;
  if (env.from === s.me || m.view !== s.view || !inWindow(s, m.seq)) return false;
  const slot = s.slots.get(m.seq);
  if (!slot || slot.view !== s.view) return false;
  return m.type === "prepare" ? slot.sentCommit : slot.commitProof !== null;
}
