/**
 * The heartbeat: an idle primary proposes an empty batch (no ops: a new seq, the same state root,
 * the empty results root, a new `time`) once it has proposed nothing for `heartbeatTicks`, so the
 * cluster certifies at least that often even without ops, and a certificate's age says how stale
 * what it certifies may be. Idle means nothing pooled here and every proposal of this view executed:
 * with ops waiting, their own batches carry the time. A heartbeat is a proposal, never a request:
 * it enters no pool, so no backup's request timer waits on it, and a silent primary is found, as
 * before, by the ops that it leaves unproposed.
 */
import { highWatermark, isPrimary, type Ctx } from "./context.js";
import { propose } from "./normal-case.js";
import type { ReplicaState } from "./state.js";
import { count } from "./stats.js";

/** The heartbeat period when `HEARTBEAT_MS` is unset (ms). */
export const HEARTBEAT_MS_DEFAULT = 2_000;

/**
 * `heartbeatTicks` from a host's `HEARTBEAT_MS` setting: unset or empty, the default (2 s); `0` or
 * `off`, no heartbeat; else whole ms up to an hour, rounded up to ticks. Anything else is the
 * default too (a typo must not switch the heartbeat off unseen).
 */
export function heartbeatTicksFrom(setting: string | undefined, tickMs: number): number {
  const v = setting?.trim() ?? "";
  if (v === "off" || v === "0") return 0;
  const ms = /^[0-9]+$/.test(v) && Number(v) <= 3_600_000 ? Number(v) : HEARTBEAT_MS_DEFAULT;
  return Math.ceil(ms / tickMs);
}

/**
 * The tick at which this node beats if it stays as it is (Infinity: not now). Only a primary in
 * its normal case, with nothing pooled and every proposal executed, beats (and wakes up for it).
 */
export function heartbeatDueTick(s: ReplicaState): number {
  if (s.cfg.heartbeatTicks <= 0 || !s.normal || !isPrimary(s)) return Infinity;
  if (s.pool.size > 0 || s.nextSeq !== s.lastExecuted + 1 || s.nextSeq > highWatermark(s)) return Infinity;
  return Math.max(s.lastProposalTick, s.viewStartTick) + s.cfg.heartbeatTicks;
}

/** On a tick: propose an empty batch if this node is an idle primary whose heartbeat is due. */
export function maybeHeartbeat(ctx: Ctx): void {
  const s = ctx.s;
  if (s.tick < heartbeatDueTick(s)) return;
  propose(ctx, { ops: [], time: Math.max(s.clockMs, s.lastTime), view: s.view });
  count(s.stats, "batch.heartbeat");
}
