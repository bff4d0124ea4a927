/**
 * The one tick input. The shell's alarm delivers wall-clock time; the core turns it into a tick
 * number and fires whatever is due. Idempotent: a tick that does not advance the tick number only
 * updates the clock.
 */
import { primaryOf } from "./config.js";
import { execKey, isPrimary, markDirty, others, sendTo, type Ctx } from "./context.js";
import type { ReplicaState } from "./state.js";
import { forgetSkipped } from "./endorse.js";
import { heartbeatDueTick } from "./heartbeat.js";
import { advanceUncertifiedFrom } from "./execute.js";
import { sendStatus, transferTick } from "./state-transfer.js";
import { count } from "./stats.js";
import { onViewChangeTimeout, startViewChange } from "./view-change.js";
import type { SignedOp } from "../ops.js";

export function onTick(ctx: Ctx, nowMs: number): void {
  const s = ctx.s;
  const tick = Math.floor(nowMs / s.cfg.tickMs);
  s.clockMs = Math.max(s.clockMs, nowMs);
  if (!s.started) {
    // First tick since construction or restore: everything waiting starts its clock now.
    s.started = true;
    s.tick = tick;
    s.viewStartTick = tick;
    s.lastStatusTick = tick - s.cfg.statusIntervalTicks;
    s.lastProposalTick = tick;
    s.lastProgressTick = tick;
    for (const e of s.pool.values()) e.sinceTick = tick;
    for (const slot of s.slots.values()) slot.sinceTick = tick;
    // Restored (and re-executed) batches came back with tick 0: without this, the give-up rule
    // would abandon them at the first STATUS once ticks are epoch-based.
    for (const rec of s.uncertified.values()) rec.sinceTick = tick;
    for (const e of s.skipped.values()) e.sinceTick = tick;
    if (s.transfer) s.transfer.progressTick = tick;
  }
  if (tick <= s.tick && s.lastStatusTick !== -Infinity) return;
  s.tick = Math.max(s.tick, tick);

  if (s.tick - s.lastStatusTick >= s.cfg.statusIntervalTicks) {
    sendStatus(ctx);
    abandonCertifiedElsewhere(ctx);
  }
  transferTick(ctx);
  if (s.normal) {
    onRequestTimeout(ctx);
    if (s.normal) ctx.proposePartial = true;
  } else {
    shareWaitingOps(ctx);
    if (s.viewChangeDeadlineTick !== null && s.tick >= s.viewChangeDeadlineTick) onViewChangeTimeout(ctx);
  }
}

/**
 * While changing view, send our oldest waiting ops to every peer now and then: a peer that has them
 * times out too, so an op only this node saw cannot leave it alone in a view change forever.
 */
function shareWaitingOps(ctx: Ctx): void {
  const s = ctx.s;
  if (s.pool.size === 0 || s.tick - s.lastOpsBroadcastTick < s.cfg.relayAfterTicks) return;
  s.lastOpsBroadcastTick = s.tick;
  const ops: SignedOp[] = [];
  for (const e of s.pool.values()) {
    ops.push(e.op);
    if (ops.length >= s.cfg.relayOpsMax) break;
  }
  count(s.stats, "op.shared", ops.length);
  sendTo(ctx, others(s), { type: "ops", ops });
}

/**
 * Give up waiting for a certificate below the stable checkpoint only once f+1 peers say they are
 * past that seq (so at least one correct node holds its certificate: the op is certified, this node
 * merely missed it, e.g. because peers keep only their last `certificatesKeptMax`). Time alone is no
 * evidence: a seq short of signers (a node withholding shares, another catching up) must be kept
 * until the signers arrive. `uncertifiedGiveUpTicks` is a grace period on top.
 */
function abandonCertifiedElsewhere(ctx: Ctx): void {
  const s = ctx.s;
  const due = (seq: number, sinceTick: number) =>
    seq <= s.stable.seq && s.tick - sinceTick >= s.cfg.uncertifiedGiveUpTicks && peersPast(s, seq) > s.f;
  for (const [seq, rec] of s.uncertified) {
    if (seq > s.stable.seq) break;
    if (!due(seq, rec.sinceTick)) continue;
    s.uncertified.delete(seq);
    s.shares.delete(seq);
    markDirty(s, execKey(seq));
    count(s.stats, "uncertified_abandoned");
  }
  for (const [seq, e] of s.skipped) {
    if (!due(seq, e.sinceTick)) continue;
    forgetSkipped(s, seq);
    count(s.stats, "skipped_abandoned");
  }
  advanceUncertifiedFrom(s);
}

/** Peers whose last STATUS said they wait for no certificate at or below `seq`. */
function peersPast(s: Ctx["s"], seq: number): number {
  let n = 0;
  for (const from of s.peerUncertifiedFrom.values()) if (from > seq) n++;
  return n;
}

/**
 * When this node's request timer started, or null while it runs none (PBFT §4.4, BFT-SMaRt's
 * request timer): only a backup in its normal case runs one, while an op waits in its pool. The
 * timer starts when the oldest waiting op arrived, and restarts when the view starts and whenever a
 * batch executes ops this node was waiting for (progress), so it measures a lack of progress, not
 * how long ops queue: a deep pool while batches execute (overload) never expires it. Progress is not
 * an alibi for ever: once the oldest waiting op has waited `requestAgeMaxFactor` timeouts, the timer
 * runs from its arrival whatever executes meanwhile (a primary censoring one op is suspected).
 */
export function requestTimerStart(s: ReplicaState): number | null {
  if (!s.normal || isPrimary(s)) return null;
  const oldest = s.pool.values().next().value;
  if (!oldest) return null;
  const waitingSince = Math.max(oldest.sinceTick, s.viewStartTick);
  // progress restarts the timer, but not for an op that has waited past the fairness bound
  if (s.tick - waitingSince >= s.cfg.requestAgeMaxFactor * requestTimeoutNow(s)) return waitingSince;
  return Math.max(waitingSince, s.lastProgressTick);
}

/**
 * The request timeout in force: `requestTimeoutTicks` scaled by the one backoff both view-change
 * timers share (`viewChangeTimeoutTicks` doubles when a view is left without progress, and is reset
 * by the first execution in a view: see `view-change.ts`, `execute.ts`).
 */
export function requestTimeoutNow(s: ReplicaState): number {
  const factor = s.viewChangeTimeoutTicks / s.cfg.viewChangeTimeoutTicks;
  return Math.max(1, Math.round(s.cfg.requestTimeoutTicks * factor));
}

/**
 * The request timer's two expiries: the first forwards the waiting ops to the primary (it may
 * never have received them: PBFT's backups multicast the request on a timeout) and runs the timer
 * again; the second, with still no progress, suspects the primary and starts a view change.
 */
function onRequestTimeout(ctx: Ctx): void {
  const s = ctx.s;
  const start = requestTimerStart(s);
  if (start === null) return;
  const timeout = requestTimeoutNow(s);
  if (s.requestRelayTick < start) {
    if (s.tick - start < timeout) return;
    s.requestRelayTick = s.tick;
    count(s.stats, "request_timeout.relay");
    relayToPrimary(ctx);
    return;
  }
  if (s.tick - s.requestRelayTick < timeout) return relayToPrimary(ctx); // the rest, `relayOpsMax` a tick
  count(s.stats, "request_timeout");
  startViewChange(ctx, s.view + 1);
}

/**
 * A backup forwards its waiting ops to the primary, on its request timer's first expiry only (so
 * never while batches execute what it waits for: a primary that makes progress has the ops, or
 * gets them from the submitters), and on each tick until the second expiry. Ops in flight are
 * skipped (the primary proposed them), each op goes once per view, `relayOpsMax` at most a tick.
 */
function relayToPrimary(ctx: Ctx): void {
  const s = ctx.s;
  const ops: SignedOp[] = [];
  for (const [id, e] of s.pool) {
    if (e.relayedView === s.view || s.inFlight.has(id)) continue;
    e.relayedView = s.view;
    ops.push(e.op);
    if (ops.length >= s.cfg.relayOpsMax) break;
  }
  if (ops.length === 0) return;
  count(s.stats, "op.relayed", ops.length);
  sendTo(ctx, [primaryOf(s.view, s.n)], { type: "ops", ops });
}

/**
 * A slot not executed yet (an executed one only waits for the next stable checkpoint to be
 * collected: no timer of its own, so it keeps nobody awake).
 */
function slotInProgress(s: ReplicaState): boolean {
  for (const seq of s.slots.keys()) if (seq > s.lastExecuted) return true;
  return false;
}

/**
 * When the shell should tick next; null: not until something arrives. A node with nothing pending
 * (no op pooled, no batch in flight or waiting for its certificate, no view change, no transfer,
 * no heartbeat due) sleeps: a message, a submitted op or a beat request wakes it, and the shell
 * ticks it first so its timers count from now (durable-objects/pbft-node.ts). Peers that are
 * behind are busy, so their STATUS reaches it and it answers without a tick.
 */
export function nextWakeMs(ctx: Ctx): number | null {
  const s = ctx.s;
  const busy =
    s.pool.size > 0 ||
    !s.normal ||
    s.uncertified.size > 0 ||
    s.skipped.size > 0 ||
    slotInProgress(s) ||
    s.transfer !== null;
  if (busy) return (s.tick + 1) * s.cfg.tickMs;
  const beat = heartbeatDueTick(s);
  return beat === Infinity ? null : Math.max(beat, s.tick + 1) * s.cfg.tickMs;
}
