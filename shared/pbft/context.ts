/** What every handler works on: the state and the effects of the step in progress, plus small helpers. */
import type { Effects } from "./effects.js";
import type { Message, Proposal, Envelope } from "./messages.js";
import type { ReplicaState, Slot } from "./state.js";
import { count } from "./stats.js";
import { primaryOf } from "./config.js";

export interface Ctx {
  s: ReplicaState;
  fx: Effects;
  /**
   * Set by a handler when the step's tail may propose a batch short of `batchSizeMax` (a tick,
   * a new view): otherwise the primary waits for a full batch.
   */
  proposePartial?: boolean;
}

/** A broken internal invariant: a bug, never hostile input. The shell lets the object restart. */
export function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`pbft invariant: ${what}`);
}

/** Count and drop: the one way hostile or stale input leaves a handler. */
export function drop(ctx: Ctx, reason: string): void {
  count(ctx.s.stats, `drop.${reason}`);
}

export const allNodes = (s: ReplicaState): number[] => Array.from({ length: s.n }, (_, i) => i);
export const others = (s: ReplicaState): number[] => allNodes(s).filter((i) => i !== s.me);

/** Sign as this node and deliver to everyone, this node included. */
export function broadcast(ctx: Ctx, msg: Message, proposal?: Proposal): void {
  ctx.fx.send.push(proposal ? { to: allNodes(ctx.s), msg, proposal } : { to: allNodes(ctx.s), msg });
}

export function sendTo(ctx: Ctx, to: number[], msg: Message, proposal?: Proposal): void {
  if (to.length === 0) return;
  ctx.fx.send.push(proposal ? { to, msg, proposal } : { to, msg });
}

export function forward(ctx: Ctx, to: number, env: Envelope): void {
  ctx.fx.send.push({ to: [to], forward: env });
}

export const isPrimary = (s: ReplicaState): boolean => primaryOf(s.view, s.n) === s.me;
export const lowWatermark = (s: ReplicaState): number => s.stable.seq;
export const highWatermark = (s: ReplicaState): number => s.stable.seq + s.cfg.logWindowSeqs;
export const inWindow = (s: ReplicaState, seq: number): boolean =>
  seq > lowWatermark(s) && seq <= highWatermark(s);

export * from "./keys.js";

export function markDirty(s: ReplicaState, key: string): void {
  s.dirty.add(key);
}

/** The slot for `seq` (created empty at the current view). Callers check the window first. */
export function slotFor(s: ReplicaState, seq: number): Slot {
  let slot = s.slots.get(seq);
  if (!slot) {
    slot = {
      seq,
      view: s.view,
      digest: null,
      proposal: null,
      prePrepare: null,
      prepares: new Map(),
      commits: new Map(),
      preparedCert: null,
      commitProof: null,
      committedProposal: null,
      sentCommit: false,
      sinceTick: s.tick,
    };
    s.slots.set(seq, slot);
  }
  return slot;
}

/** Move a slot to view `view`: votes of older views no longer count (its prepared certificate stays). */
export function resetSlotView(s: ReplicaState, slot: Slot, view: number): void {
  slot.view = view;
  slot.digest = null;
  slot.proposal = null;
  slot.prePrepare = null;
  slot.prepares = new Map();
  slot.commits = new Map();
  slot.sentCommit = false;
  slot.sinceTick = s.tick;
}
