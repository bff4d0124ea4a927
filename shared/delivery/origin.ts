/**
 * The delivery core's origin side: new own ops to every peer (drain, the queue's fast path), own
 * ops some peer has not confirmed sent again to those peers (resend, resend.ts), confirmations and
 * the pages peers ask for, own ops still uncertified after a while to the nodes again at the nodes'
 * pace (certify, certify-pace.ts), and which op rows may be collected (gc, op-gc.ts). Pure.
 */
import { nextPace, nodesBusy, paceAllows } from "./certify-pace.js";
import { event, isPeer, work, type Ctx } from "./context.js";
import type { Send } from "./effects.js";
import { gcBounds } from "./op-gc.js";
import { resendPlan } from "./resend.js";
import {
  ANTI_ENTROPY_PAGE_MAX,
  CERTIFY_PACE,
  certifyAfterMs,
  GC_BATCH_MAX,
  horizonMs,
  OUTBOX_DRAIN_MAX,
  RESEND_MAX,
} from "./settings.js";

/** New own ops to every peer; the drain mark moves once they are sent (at least once). */
export function onDrain(cx: Ctx): void {
  cx.mem.drainScheduled = false;
  const sent = cx.state.mark("sent_pos");
  const rows = cx.log.page(sent, OUTBOX_DRAIN_MAX);
  if (rows.length === 0) return;
  work(cx);
  cx.fx.send.push({ task: "drain", entries: rows, mark: sent + rows.length });
  cx.fx.more = rows.length === OUTBOX_DRAIN_MAX;
}

/** Own ops sent before the previous re-send tick and unconfirmed by some peer: again, to those. */
export function onResend(cx: Ctx): void {
  const sentPos = cx.state.mark("sent_pos");
  const plan = resendPlan({
    peers: cx.config.peers,
    acks: cx.state.acks(),
    sentAtLastTick: cx.state.mark("resend_mark"),
    limit: RESEND_MAX,
  });
  const rows = plan ? cx.log.page(plan.after, RESEND_MAX, plan.through) : [];
  if (plan) {
    work(cx);
    const { after, through, targets } = plan;
    event(cx, "resend", { after, through, targets });
  }
  if (plan && rows.length > 0)
    cx.fx.send.push({ task: "resend", entries: rows, targets: plan.targets, mark: sentPos });
  else cx.state.putMark("resend_mark", sentPos);
}

export function onSent(cx: Ctx, s: Send): void {
  cx.state.putMark(s.task === "drain" ? "sent_pos" : "resend_mark", s.mark);
}

/** Confirmations from the queue consumer; hostile input: a non-peer or a bad position is ignored. */
export function onAcks(cx: Ctx, acks: Record<string, unknown>): void {
  for (const [peer, pos] of Object.entries(acks))
    if (isPeer(cx.config, peer) && Number.isSafeInteger(pos) && (pos as number) > 0)
      cx.state.noteAck(peer, pos as number);
}

/** A peer's pull: it confirms everything up to `after`; the answer is one bounded page. */
export function onPageRequest(cx: Ctx, requester: string, after: unknown, limit: unknown): void {
  const from = Number.isSafeInteger(after) && (after as number) > 0 ? (after as number) : 0;
  if (from > 0 && isPeer(cx.config, requester)) cx.state.noteAck(requester, from);
  const n = Math.max(1, Math.min(ANTI_ENTROPY_PAGE_MAX, Number.isSafeInteger(limit) ? (limit as number) : 1));
  cx.fx.page = { entries: cx.log.page(from, n), head: cx.log.head() };
}

/** Own ops uncertified `certifyAfterMs` after their ts: to the nodes again, if the pace allows. */
export function onCertify(cx: Ctx, nowMs: number): void {
  if (!cx.config.certify) return;
  if (!paceAllows(cx.mem.pace, nowMs)) {
    cx.mem.counts.deferred++;
    return;
  }
  const limit = cx.mem.pace.limit;
  const ops = cx.log.uncertified(nowMs - certifyAfterMs(cx.config.knobs), limit);
  if (ops.length === 0) {
    // own ops waiting for their certificate, none due for a resubmission yet: not idle (backing
    // off now would put their resubmission a whole backed-off period later, tens of seconds)
    if (cx.log.uncertifiedCount() > 0) work(cx);
    return;
  }
  work(cx);
  cx.fx.submit = { ops, limit };
}

/** The nodes' answers to a resubmission set the next one's pace. */
export function onNodesAnswered(
  cx: Ctx,
  i: { nowMs: number; submitted: number; limit: number; answers: unknown[] },
): void {
  const busy = nodesBusy(i.answers, cx.config.f);
  cx.mem.pace = nextPace(cx.mem.pace, busy, i.nowMs, CERTIFY_PACE);
  cx.mem.counts.resubmitted += i.submitted;
  if (busy) cx.mem.counts.busy++;
  event(cx, "certify_resubmit", {
    ops: i.submitted,
    nodesTook: i.answers.length,
    busy,
    nextLimit: cx.mem.pace.limit,
    backoffMs: cx.mem.pace.backoffMs,
  });
  cx.fx.more = !busy && i.submitted === i.limit;
}

/** Which op rows may go (delivered, certified, past the horizon), at most `GC_BATCH_MAX` a run. */
export function onGc(cx: Ctx, nowMs: number): void {
  const { me, peers } = cx.config;
  const cursors: Record<string, { cursor: number; syncedAt: number }> = {};
  for (const p of peers) cursors[p] = cx.state.cursor(p);
  const bounds = gcBounds({
    me,
    peers,
    acks: cx.state.acks(),
    cursors,
    nowMs,
    horizonMs: horizonMs(cx.config.knobs),
    certificationRequired: cx.config.certify,
  });
  if (bounds.length > 0) cx.fx.collect = { bounds, budget: GC_BATCH_MAX };
}

export function onCollected(cx: Ctx, count: number, budget: number): void {
  if (count > 0) event(cx, "gc", { collected: count });
  cx.fx.more = count >= budget;
}
