/**
 * The heartbeat: an idle primary proposes an empty batch (no ops: a new seq, the same state root,
 * the empty results root, a new `time`) once it has proposed nothing for `heartbeatTicks`, so the
 * cluster certifies at least that often even without ops, and a certificate's age says how stale
 * what it certifies may be. Idle means nothing pooled here and every proposal of this view executed:
 * with ops waiting, their own batches carry the time. A heartbeat is a proposal, never a request:
 * it enters no pool, so no backup's request timer waits on it, and a silent primary is found, as
 * before, by the ops that it leaves unproposed.
 *
 * Only while someone is looking (`heartbeatActivityTicks` > 0): the heartbeat runs until that many
 * ticks after the last client activity (`activity.ts`: an op submitted, a replica asking for a beat
 * because a reader found its newest certificate old), then stops, so an idle cluster nobody reads
 * certifies nothing. A beat is never due sooner than `heartbeatTicks` after the last proposal,
 * however often a beat is asked for: a Byzantine replica asking without end makes the cluster beat
 * at most as an always-on heartbeat would.
 */
import { highWatermark, isPrimary, type Ctx } from "./context.js";
import { propose } from "./normal-case.js";
import type { ReplicaState } from "./state.js";
import { count } from "./stats.js";

/** The heartbeat period when `HEARTBEAT_MS` is unset (ms). */
export const HEARTBEAT_MS_DEFAULT = 2_000;

/**
 * A ms setting in ticks: one of `offWords` gives 0; whole ms up to `maxMs`
 * are rounded up to ticks; unset, empty or anything else is the default (a typo must not switch a
 * timer off unseen).
 */
function msSettingTicks(
  setting: string | undefined,
  tickMs: number,
  rule: { offWords: readonly string[]; maxMs: number; defaultMs: number },
): number {
  const v = setting?.trim() ?? "";
  if (rule.offWords.includes(v)) return 0;
  const ms = /^[0-9]+$/.test(v) && Number(v) <= rule.maxMs ? Number(v) : rule.defaultMs;
  return Math.ceil(ms / tickMs);
}

/**
 * `heartbeatTicks` from a host's `HEARTBEAT_MS` setting: unset or empty, the default (2 s); `0` or
 * `off`, no heartbeat; else whole ms up to an hour, rounded up to ticks. Anything else is the
 * default too.
 */
export const heartbeatTicksFrom = (setting: string | undefined, tickMs: number): number =>
  msSettingTicks(setting, tickMs, {
    offWords: ["off", "0"],
    maxMs: 3_600_000,
    defaultMs: HEARTBEAT_MS_DEFAULT,
  });

/** How long the heartbeat runs after the last client activity when `HEARTBEAT_ACTIVITY_MS` is unset (ms). */
export const HEARTBEAT_ACTIVITY_MS_DEFAULT = 300_000;

/**
 * `heartbeatActivityTicks` from a host's `HEARTBEAT_ACTIVITY_MS` setting: unset, empty or anything
 * else, the default (5 min); `always` or `0`, beat whether or not anyone is looking (the old way);
 * else whole ms up to a day, rounded up to ticks.
 */
export const heartbeatActivityTicksFrom = (setting: string | undefined, tickMs: number): number =>
  msSettingTicks(setting, tickMs, {
    offWords: ["always", "0"],
    maxMs: 86_400_000,
    defaultMs: HEARTBEAT_ACTIVITY_MS_DEFAULT,
  });

/**
 * The tick at which this node beats if it stays as it is (Infinity: not now). Only a primary in
 * its normal case, with nothing pooled and every proposal executed, beats (and wakes up for it).
 */
export function heartbeatDueTick(s: ReplicaState): number {
  if (s.cfg.heartbeatTicks <= 0 || !s.normal || !isPrimary(s)) return Infinity;
  if (s.pool.size > 0 || s.nextSeq !== s.lastExecuted + 1 || s.nextSeq > highWatermark(s)) return Infinity;
  const due = Math.max(s.lastProposalTick, s.viewStartTick) + s.cfg.heartbeatTicks;
  // nobody looking since the window closed: no beat, and no wake-up for one
  if (s.cfg.heartbeatActivityTicks > 0 && Math.max(due, s.tick) >= s.beatUntilTick) return Infinity;
  return due;
}

/** On a tick: propose an empty batch if this node is an idle primary whose heartbeat is due. */
export function maybeHeartbeat(ctx: Ctx): void {
  const s = ctx.s;
  if (s.tick < heartbeatDueTick(s)) return;
  propose(ctx, { ops: [], time: Math.max(s.clockMs, s.lastTime), view: s.view });
  count(s.stats, "batch.heartbeat");
}
