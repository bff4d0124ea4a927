/**
 * Catching up. Every node broadcasts STATUS now and then; a peer that is ahead answers with what
 * the sender lacks: the NEW-VIEW of a later view, STATE (a stable checkpoint's state and proof) when
 * the sender is behind the peer's log, COMMITTED batches after that, its own votes for slots still
 * in progress, checkpoint votes, shares and certificates. Everything sent is verifiable by itself,
 * so the receiver checks before adopting and no answer needs trust.
 */
import {
  drop,
  forward,
  isPrimary,
  markDirty,
  others,
  poolKey,
  sendTo,
  slotKey,
  STABLE_KEY,
  type Ctx,
} from "./context.js";
import { checkpointDigest } from "./digest.js";
import { noteSkipped } from "./endorse.js";
import { advanceUncertifiedFrom, executeReady } from "./execute.js";
import { ExecutedIds } from "./executed-ids.js";
import type { Envelope, StateMsg, Status } from "./messages.js";
import { count } from "./stats.js";
import { validCheckpointProof } from "./view-change.js";
import { maybePropose } from "./normal-case.js";
import type { StateMachineFactory } from "../certified/types.js";

export function sendStatus(ctx: Ctx): void {
  const s = ctx.s;
  s.lastStatusTick = s.tick;
  sendTo(ctx, others(s), {
    type: "status",
    view: s.view,
    normal: s.normal,
    lastExecuted: s.lastExecuted,
    stableSeq: s.stable.seq,
    uncertifiedFrom: s.uncertifiedFrom,
  });
}

export function onStatus(ctx: Ctx, env: Envelope<Status>): void {
  const s = ctx.s;
  const p = env.from;
  const st = env.msg;
  if (p === s.me) return;
  s.peerUncertifiedFrom.set(p, st.uncertifiedFrom);
  const budget = { left: s.cfg.retransmitSlotsMax };
  const aged = (since: number) => s.tick - since >= s.cfg.retransmitAfterTicks;

  // Views: a peer in an older view (or still changing into ours) gets our NEW-VIEW; peers changing
  // view with us get our VIEW-CHANGE again.
  if (s.normal && s.newView && (st.view < s.view || (st.view === s.view && !st.normal)))
    forward(ctx, p, s.newView);
  if (!s.normal && st.view <= s.view) {
    const mine = s.viewChanges.get(s.me);
    if (mine && mine.msg.view === s.view) forward(ctx, p, mine);
  }

  // Behind our stable checkpoint: the log it needs is gone here, send the state.
  if (st.lastExecuted < s.stable.seq) {
    const last = s.lastStateSentTick.get(p) ?? -Infinity;
    if (s.tick - last >= s.cfg.stateTransferIntervalTicks) {
      s.lastStateSentTick.set(p, s.tick);
      sendTo(ctx, [p], { type: "state", checkpoint: s.stable, state: s.stableState });
      count(s.stats, "state_transfer.sent");
    }
  }
  // Its stable checkpoint is older than ours: our proof lets it collect its log.
  if (st.stableSeq < s.stable.seq) for (const e of s.stable.proof) forward(ctx, p, e);
  for (const [seq, c] of s.checkpoints) {
    const mine = c.votes.get(s.me);
    if (seq > st.stableSeq && mine) forward(ctx, p, mine);
  }

  // Committed batches it has not executed.
  for (
    let seq = Math.max(st.lastExecuted, s.stable.seq) + 1;
    seq <= s.lastExecuted && budget.left > 0;
    seq++
  ) {
    const slot = s.slots.get(seq);
    if (!slot?.commitProof || !slot.committedProposal) continue;
    budget.left--;
    sendTo(ctx, [p], { type: "committed", seq, commits: slot.commitProof }, slot.committedProposal);
  }

  // Slots in progress in a view we share: our own votes again (messages get lost).
  if (st.view === s.view && st.normal && s.normal) {
    for (const slot of s.slots.values()) {
      if (budget.left <= 0) break;
      if (
        slot.seq <= Math.max(st.lastExecuted, s.lastExecuted) ||
        slot.view !== s.view ||
        !aged(slot.sinceTick)
      )
        continue;
      budget.left--;
      if (slot.prePrepare && isPrimary(s)) forward(ctx, p, slot.prePrepare);
      const prep = slot.prepares.get(s.me);
      if (prep) forward(ctx, p, prep);
      const com = slot.commits.get(s.me);
      if (com) forward(ctx, p, com);
    }
  }

  // Certificates it lacks, or our share towards one.
  const until = Math.min(st.lastExecuted, s.lastExecuted, st.uncertifiedFrom + s.cfg.retransmitSlotsMax - 1);
  for (let seq = st.uncertifiedFrom; seq <= until; seq++) {
    const cert = s.certificates.get(seq);
    if (cert) {
      sendTo(ctx, [p], { type: "certificate", certificate: cert });
      continue;
    }
    const rec = s.uncertified.get(seq) ?? s.skipped.get(seq);
    if (rec?.share && aged(rec.sinceTick)) forward(ctx, p, rec.share);
  }
}

/** Adopt a stable checkpoint's state, after checking it against its proof. */
export function onState(ctx: Ctx, env: Envelope<StateMsg>, machines: StateMachineFactory): void {
  const s = ctx.s;
  const { checkpoint: cp, state } = env.msg;
  if (cp.seq <= s.lastExecuted) return drop(ctx, "stale_state");
  if (state.seq !== cp.seq || !validCheckpointProof(s, cp)) return drop(ctx, "bad_state");
  let sm;
  try {
    sm = machines.create(state.sm);
  } catch {
    return drop(ctx, "bad_state_snapshot");
  }
  if (checkpointDigest(state, sm.stateRoot()) !== cp.digest) return drop(ctx, "state_digest_mismatch");

  const before = s.lastExecuted;
  s.sm = sm;
  s.lastExecuted = cp.seq;
  s.logRoot = state.logRoot;
  s.opCount = state.opCount;
  s.lastTime = state.time;
  s.executed = ExecutedIds.fromJson(state.executed);
  s.stable = cp;
  s.stableState = state;
  markDirty(s, STABLE_KEY);
  for (const q of s.slots.keys())
    if (q <= cp.seq) {
      s.slots.delete(q);
      markDirty(s, slotKey(q));
    }
  for (const q of s.checkpoints.keys()) if (q <= cp.seq) s.checkpoints.delete(q);
  for (const [id, e] of s.pool)
    if (s.executed.has(e.op)) {
      s.pool.delete(id);
      s.inFlight.delete(id);
      s.unproposed.delete(id);
      markDirty(s, poolKey(id));
    }
  // The batches skipped here were never executed here, but this node still signs for them once
  // f+1 peers' shares agree (endorse.ts): without its share they may lack 2f+1 signers.
  noteSkipped(ctx, before, cp.seq);
  if (s.uncertifiedFrom > before) s.uncertifiedFrom = before + 1;
  advanceUncertifiedFrom(s);
  if (s.nextSeq <= cp.seq) s.nextSeq = cp.seq + 1;
  count(s.stats, "state_transfer.adopted");
  executeReady(ctx);
  maybePropose(ctx, false);
}
